"""amends worker — run background tasks (the django-tasks database worker)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a background task worker. Start as many as you like, on any number of machines."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--queue-name", default="default")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command(
            "db_worker",
            queue_name=options["queue_name"],
            interval=options["interval"],
            verbosity=options["verbosity"],
        )
