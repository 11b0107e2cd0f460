"""Benchmark `amends import services` against a bare load of the same file.

    DATABASE_URL=postgres://… python bench/import_bench.py [--size N]

Generates an operator with about N services (default 1 M), imports its teams, products, network
and customers, then times the services import (ours: parse, validate, stage, check, merge into
the indexed table, audit) and the floor: a bare ``COPY`` of the same file into an unindexed
table of text columns (on SQLite: csv.reader + executemany into such a table). It also times a
re-import of the unchanged file and measures the importer's peak memory in a child process for
100 k rows and for all N rows (it must not grow with the file). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import scratch_database  # noqa: E402

if TYPE_CHECKING:
    from amends.network.importer import ImportResult

SERVICES_PER_CUSTOMER = 1.305  # what the generator produces on average


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="services (default 1M)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="amends-import-bench-") as tmp,
        scratch_database("amends_bench_import") as url,
    ):
        os.environ.setdefault("AMENDS_DATA_DIR", tmp)
        result = run(Path(tmp), url, size=args.size, seed=args.seed)
    print(json.dumps(result))


def run(tmp: Path, url: str, *, size: int, seed: int) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amends.settings")
    django.setup()
    from django.core.management import call_command

    from amends.network.generator import generate
    from amends.network.importer import run_import

    call_command("migrate", verbosity=0)
    customers = max(1, round(size / SERVICES_PER_CUSTOMER))
    counts = generate(customers=customers, out_dir=tmp / "data", seed=seed)
    services = tmp / "data" / "services.csv"
    vendor = "postgresql" if url.startswith("postgres") else "sqlite"
    print(f"database: {vendor}; {counts['services']:,} services of {customers:,} customers")

    for kind in ("teams", "products", "network", "customers"):
        report(run_import(kind, tmp / "data" / f"{kind}.csv", actor="bench"))
    print_load("before the services import")
    started = time.perf_counter()
    first = run_import("services", services, actor="bench")
    ours = time.perf_counter() - started
    report(first)
    report(run_import("services", services, actor="bench"), label="services again")

    floor = bare_load(services, vendor)
    print_load("after the floor")
    rows = first.rows
    print(f"ours:  {ours:.2f} s  ({rows / ours:,.0f} rows/s)")
    print(f"floor: {floor:.2f} s  ({rows / floor:,.0f} rows/s, bare load into an unindexed table)")
    print(f"ratio: {ours / floor:.2f}x (target ≤ 3x)")
    server = first.phases.get("merge", 0.0)
    print(
        f"of ours, the database's merge alone (insert, index builds, statistics; no parsing): "
        f"{server:.2f} s = {server / floor:.2f}x the floor"
    )

    small = head(services, tmp / "services-100k.csv", 100_000)
    for label, path in (("100 k rows", small), (f"{rows:,} rows", services)):
        print(f"peak memory importing {label}: {peak_rss_mb(path):.0f} MB")
    return {
        "bench": "import",
        "n": rows,
        "ours": round(ours, 3),
        "floor": round(floor, 3),
        "ratio": round(ours / floor, 3),
        "unit": "s",
    }


def print_load(moment: str) -> None:
    """Other work on the machine slows ours and the floor unequally: say how much there was."""
    print("load average (1, 5, 15 min) {}: {:.2f} {:.2f} {:.2f}".format(moment, *os.getloadavg()))


def report(result: ImportResult, label: str | None = None) -> None:
    phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in result.phases.items())
    print(
        f"  {label or result.kind:<15} {result.rows:>10,} rows in {result.seconds:6.2f} s: "
        f"{result.created:,} created, {result.updated:,} updated, {result.unchanged:,} "
        f"unchanged ({phases})"
    )


def bare_load(path: Path, vendor: str) -> float:
    """The floor: load the file's rows into an unindexed table as fast as the database can."""
    from django.db import connection, transaction

    with path.open(encoding="utf-8", newline="") as handle:
        header = handle.readline().strip().split(",")
    columns = ", ".join(f"{name} text" for name in header)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_floor ({columns})")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "postgresql":
            with (
                path.open("rb") as handle,
                cursor.copy("COPY bench_floor FROM STDIN (FORMAT csv, HEADER true)") as copy,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        else:
            import csv

            with path.open(encoding="utf-8", newline="") as handle:
                reader = csv.reader(handle)
                next(reader)
                marks = ", ".join(["%s"] * len(header))
                cursor.executemany(f"INSERT INTO bench_floor VALUES ({marks})", reader)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return elapsed


def head(path: Path, out: Path, rows: int) -> Path:
    with path.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as target:
        for index, line in enumerate(source):
            if index > rows:
                break
            target.write(line)
    return out


def peak_rss_mb(path: Path) -> float:
    """Peak resident memory of `amends import services PATH --dry-run` in a child process."""
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "amends", "import", "services", str(path), "--dry-run"],
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"the import of {path} failed in the child process")
    return usage.ru_maxrss / 1024


if __name__ == "__main__":
    main()
