"""amends import KIND FILE — load teams, products, network, customers or services."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from amends.core.commands import add_examples
from amends.network.importer import IMPORT_ORDER, ImportRejected, ImportResult, run_import
from amends.network.importer.reader import FORMATS


class Command(BaseCommand):
    help = (
        "Import a CSV or JSON Lines file of teams, products, network elements, customers or "
        "services (all-or-nothing; upserts by external id). With --dir, import every kind found "
        "in a directory, in dependency order."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("kind", nargs="?", choices=IMPORT_ORDER)
        parser.add_argument("file", nargs="?", type=Path)
        parser.add_argument("--dir", type=Path, help="import KIND.csv/KIND.jsonl files found here")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, then roll back"
        )
        add_examples(
            parser,
            "amends import --dir demo-data",
            "amends import --dir demo-data --dry-run",
            "amends import customers demo-jsonl/customers.jsonl",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = self._jobs(options["kind"], options["file"], options["dir"])
        for kind, path in jobs:
            try:
                result = run_import(kind, path, actor="cli", dry_run=options["dry_run"])
            except ImportRejected as rejected:
                for line in rejected.lines():
                    self.stderr.write(line)
                raise CommandError(str(rejected)) from None
            self.stdout.write(self._summary(result, dry_run=options["dry_run"]))

    def _jobs(
        self, kind: str | None, file: Path | None, directory: Path | None
    ) -> list[tuple[str, Path]]:
        if directory is not None:
            if kind or file:
                raise CommandError("give either KIND FILE or --dir DIR, not both")
            if not directory.is_dir():
                raise CommandError(f"{directory}: no such directory")
            jobs = [(k, p) for k in IMPORT_ORDER for p in _files_for(directory, k)]
            if not jobs:
                raise CommandError(f"{directory}: no {', '.join(IMPORT_ORDER)} files found")
            return jobs
        if not kind or not file:
            raise CommandError("give KIND FILE (e.g. customers customers.csv) or --dir DIR")
        return [(kind, file)]

    @staticmethod
    def _summary(result: ImportResult, *, dry_run: bool) -> str:
        note = " (dry run: nothing written)" if dry_run else ""
        return (
            f"{result.kind}: {result.rows:,} rows — {result.created:,} created, "
            f"{result.updated:,} updated, {result.unchanged:,} unchanged "
            f"in {result.seconds:.1f} s{note}"
        )


def _files_for(directory: Path, kind: str) -> list[Path]:
    return [directory / f"{kind}{ext}" for ext in FORMATS if (directory / f"{kind}{ext}").is_file()]
