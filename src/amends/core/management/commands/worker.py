"""amends worker — run background tasks (the django-tasks database worker), and beside it the
communications sweeper that takes over from workers that died mid-send."""

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
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=15.0,
            help="seconds between sweeps for expired leases and stalled notices",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from amends.comms import sweeper

        stop = sweeper.start(options["sweep_interval"])
        try:
            self._run(options)
        finally:
            stop.set()

    def _run(self, options: dict[str, Any]) -> None:
        call_command(
            "db_worker",
            queue_name=options["queue_name"],
            interval=options["interval"],
            verbosity=options["verbosity"],
        )
