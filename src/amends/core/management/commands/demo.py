"""amends demo — build a demo operator, then serve it."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from amends.core.management.commands.serve import link_to
from amends.demo import run_demo


class Command(BaseCommand):
    help = "Generate and import a demo operator, create a staff account per role, then serve."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--customers", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up, print, and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 1:
            raise CommandError("--customers must be at least 1")
        call_command("migrate", interactive=False, verbosity=0)
        link_to(host=options["host"], port=options["port"])  # before its messages are written
        result = run_demo(
            customers=options["customers"], seed=options["seed"], say=self.stdout.write
        )
        self.stdout.write("\nSign in at the console with any of these accounts:")
        for username, (role, password) in result.credentials.items():
            self.stdout.write(f"   {username:<10} {password:<14} ({role})")
        self.stdout.write(f"\nConsole: http://{options['host']}:{options['port']}/")
        if not options["no_serve"]:
            call_command("serve", host=options["host"], port=options["port"])
