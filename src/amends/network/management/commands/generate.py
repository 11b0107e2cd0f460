"""amends generate --customers N --out DIR — write synthetic data files for demos and benchmarks."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from amends.core.commands import add_examples
from amends.network.generator import FORMATS, generate


class Command(BaseCommand):
    help = (
        "Write synthetic teams, products, network, customers and services files (CSV or JSON "
        "Lines) for N customers in real Australian localities. The same seed gives the same files."
    )
    # Writing files needs neither the database nor a checked project.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--customers", type=int, required=True, metavar="N")
        parser.add_argument("--out", type=Path, required=True, metavar="DIR")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--format", choices=FORMATS, default="csv", dest="fmt")
        add_examples(
            parser,
            "amends generate --customers 200 --out demo-data",
            "amends generate --customers 200 --out demo-jsonl --format jsonl --seed 7",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        customers: int = options["customers"]
        out: Path = options["out"]
        fmt: str = options["fmt"]
        if customers < 1:
            raise CommandError(f"--customers must be at least 1, not {customers}")
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {out}: exists and is not a directory")
        started = time.perf_counter()
        try:
            counts = generate(customers=customers, out_dir=out, seed=options["seed"], fmt=fmt)
        except OSError as exc:
            raise CommandError(f"--out {out}: {exc.strerror or exc}") from None
        elapsed = time.perf_counter() - started
        for kind, rows in counts.items():
            self.stdout.write(f"{kind}: {rows:,} rows -> {out / f'{kind}.{fmt}'}")
        self.stdout.write(f"done in {elapsed:.2f} s")
