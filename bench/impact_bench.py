"""Benchmark impact resolution against a hand-written single INSERT … SELECT.

    DATABASE_URL=postgres://… python bench/impact_bench.py [--size N]

Builds an operator with about N services (default 1 M; 10 M works given time) through the
generator and the importer, then declares outages covering about half of them (whole states,
the way the 2023 national outages went) and times, in the same process, three times each:

* ours: ``outage_declare`` end to end (scope, set-based resolution into the Impact table,
  counts, classification, timeline, audit);
* the floor: one hand-written ``INSERT INTO outages_impact … SELECT … FROM network_service
  WHERE state IN (…)`` writing the same rows.

Each run starts from an empty Impact table. Prints the medians, rows/s and the ratio; the last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import scratch_database  # noqa: E402

SERVICES_PER_CUSTOMER = 1.305
RUNS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size",
        "--services",
        type=int,
        default=1_000_000,
        dest="size",
        help="services (default 1M)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="amends-impact-bench-") as tmp,
        scratch_database("amends_bench_impact"),
    ):
        os.environ.setdefault("AMENDS_DATA_DIR", tmp)
        result = run(Path(tmp), size=args.size, seed=args.seed)
    print(json.dumps(result))


def run(tmp: Path, *, size: int, seed: int) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amends.settings")
    django.setup()
    from django.core.management import call_command

    from amends.network.generator import generate
    from amends.network.importer import IMPORT_ORDER, run_import

    call_command("migrate", verbosity=0)
    customers = max(1, round(size / SERVICES_PER_CUSTOMER))
    started = time.perf_counter()
    generate(customers=customers, out_dir=tmp / "data", seed=seed)
    for kind in IMPORT_ORDER:
        run_import(kind, tmp / "data" / f"{kind}.csv", actor="bench")
    print(
        f"setup: {size:,} services generated and imported in {time.perf_counter() - started:.0f} s"
    )
    states = half_of_the_services()
    ours, floor, rows = [], [], 0
    for _ in range(RUNS):
        empty_impact_table()
        seconds, rows = time_ours(states)
        ours.append(seconds)
        empty_impact_table()
        floor.append(time_floor(states, rows))
    best_ours, best_floor = statistics.median(ours), statistics.median(floor)
    total = total_services()
    print(
        f"scope: all services in {', '.join(states)} = {rows:,} of {total:,} services "
        f"({rows / total:.0%})"
    )
    print(
        f"ours:  {best_ours:.2f} s median of {RUNS} ({rows / best_ours:,.0f} rows/s) "
        f"— runs {', '.join(f'{s:.2f}' for s in ours)}"
    )
    print(
        f"floor: {best_floor:.2f} s median of {RUNS} ({rows / best_floor:,.0f} rows/s) "
        f"— runs {', '.join(f'{s:.2f}' for s in floor)}"
    )
    print(f"ratio: {best_ours / best_floor:.2f}x (target ≤ 1.5x; ≤ 10 s for 1 M services)")
    return {
        "bench": "impact",
        "n": total,
        "ours": round(best_ours, 3),
        "floor": round(best_floor, 3),
        "ratio": round(best_ours / best_floor, 3),
        "unit": "s",
    }


def empty_impact_table() -> None:
    """Each timed run starts from the same, empty Impact table (and a checkpoint behind it)."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE outages_impact")
            try:
                cursor.execute("CHECKPOINT")
            except DatabaseError:  # needs superuser or pg_checkpoint; fairness only
                pass
        else:
            cursor.execute("DELETE FROM outages_impact")


def total_services() -> int:
    from amends.network.models import Service

    return Service.objects.filter(is_active=True).count()


def half_of_the_services() -> list[str]:
    """The largest states, in order, until they hold at least half of the services."""
    from django.db.models import Count

    from amends.network.models import Service

    by_state = (
        Service.objects.filter(is_active=True)
        .values("state")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    total, chosen, covered = total_services(), [], 0
    for row in by_state:
        if covered >= total / 2:
            break
        chosen.append(row["state"])
        covered += row["n"]
    return chosen


def time_ours(states: list[str]) -> tuple[float, int]:
    from amends.outages.scope import ScopeSpec
    from amends.outages.services import outage_declare

    started = time.perf_counter()
    change = outage_declare(
        actor="bench",
        title="Core routing fault",
        scope_items=[ScopeSpec(kind="state", state=s) for s in states],
    )
    seconds = time.perf_counter() - started
    assert change.impact is not None
    return seconds, change.impact.newly_affected


def time_floor(states: list[str], expected_rows: int) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    from amends.outages.models import Outage

    now = timezone.now()
    outage = Outage.objects.create(
        reference=f"FLOOR-{time.monotonic_ns()}"[:20],
        title="floor",
        detected_at=now,
        started_at=now,
    )
    marks = ", ".join(["%s"] * len(states))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO outages_impact (outage_id, service_id, customer_id, window_start, "
            "window_end, end_reason, degree) SELECT %s, s.id, s.customer_id, %s, NULL, '', "
            f"'full' FROM network_service s WHERE s.is_active = %s AND s.state IN ({marks})",
            [outage.pk, connection.ops.adapt_datetimefield_value(now), True, *states],
        )
        rows = cursor.rowcount
    seconds = time.perf_counter() - started
    assert rows == expected_rows, (rows, expected_rows)
    return seconds


if __name__ == "__main__":
    main()
