"""amends remedy create|calculate|approve|export|confirm|report (and helpers): remediation from
the shell. Every write calls the same services as the console and API, as the staff account
named by ``--as``. The subcommands live beside their services in ``amends.remedy.cli``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from amends.core.commands import add_examples
from amends.core.errors import AmendsError
from amends.remedy.cli import claims_report, engine, payments


class Command(BaseCommand):
    help = "Remediation programs: calculate, review, approve, pay and report."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_examples(
            parser,
            "amends remedy policy presets",
            "amends remedy policy create standard --preset pro_rata --as analyst",
            'amends remedy create --name "Fibre cut credits" --outage OUT-2026-0001 '
            "--policy standard --as analyst",
            "amends remedy calculate REM-2026-0001 --as analyst",
            "amends remedy review REM-2026-0001",
            "amends remedy report REM-2026-0001 --format csv --out report.csv",
        )
        sub = parser.add_subparsers(dest="action", required=True)
        for module in (engine, payments, claims_report):
            module.add_commands(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            options["handler"](self, options)
        except AmendsError as exc:
            raise CommandError(str(exc)) from None
