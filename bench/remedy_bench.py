"""Benchmark the entitlement calculation against a hand-written SQL aggregate.

    DATABASE_URL=postgres://… python bench/remedy_bench.py [--size N]

Builds, set-based (generate_series on PostgreSQL, a recursive CTE on SQLite), N customers
(default 1 M) with 1.3 services each on average, and one outage affecting every service, with
a window per service ending anywhere from 1 to 48 hours after the start (a staggered
restoration). Then times, in the same process, three times each:

* ours: ``calculate()`` end to end under the pro-rata preset with small-business goodwill, a
  $2 minimum and a $500 cap (window merging, eligibility, per-service lines, explanations,
  one Entitlement row per customer, totals, digest, audit);
* the floor: one hand-written ``CREATE TABLE … AS SELECT`` aggregate computing the same base
  amounts per customer (each service's charge × seconds ÷ 730 h, summed and rounded half up)
  and keeping them.

Checks that both give the same base amounts, prints the medians and the ratio, and how long
the durable write of that many entitlement rows takes by itself (the floor keeps two columns
in a temporary table; ours must keep a full, indexed row per customer); the last line is one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import scratch_database  # noqa: E402

RUNS = 3
OUTAGE_START = datetime(2026, 3, 2, 4, 5, tzinfo=UTC)
AS_OF = OUTAGE_START + timedelta(days=7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="customers (default 1M)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="amends-remedy-bench-") as tmp,
        scratch_database("amends_bench_remedy"),
    ):
        os.environ.setdefault("AMENDS_DATA_DIR", tmp)
        result = run(size=args.size)
    print(json.dumps(result))


def run(*, size: int) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amends.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    outage = build_operator(size)
    print(
        f"setup: {size:,} customers, {services():,} services affected, built in "
        f"{time.perf_counter() - started:.0f} s"
    )
    program = make_program(outage)
    ours, floor = [], []
    for _ in range(RUNS):
        seconds, calculation = time_ours(program)
        ours.append(seconds)
        floor.append(time_floor(outage))
    check_same_base(calculation)
    write = time_write_alone()
    best_ours, best_floor = statistics.median(ours), statistics.median(floor)
    print(
        f"ours:  {best_ours:.2f} s median of {RUNS} ({size / best_ours:,.0f} customers/s) "
        f"— runs {', '.join(f'{s:.2f}' for s in ours)}"
    )
    print(
        f"floor: {best_floor:.2f} s median of {RUNS} ({size / best_floor:,.0f} customers/s) "
        f"— runs {', '.join(f'{s:.2f}' for s in floor)}"
    )
    print(
        f"of which writing the rows alone: {write:.2f} s ({write / best_floor:.2f}x the floor) — "
        "one entitlement per customer with a constant explanation, inserted in customer order"
    )
    print(f"ratio: {best_ours / best_floor:.2f}x (target ≤ 2x; ≤ 15 s for 1 M customers)")
    return {
        "bench": "remedy",
        "n": size,
        "ours": round(best_ours, 3),
        "floor": round(best_floor, 3),
        "ratio": round(best_ours / best_floor, 3),
        "unit": "s",
    }


def _sequence(count: int) -> str:
    """SQL for the integers 1..count as column n."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"SELECT n FROM generate_series(1, {int(count)}) AS n"
    return (
        f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq "
        f"WHERE n < {int(count)}) SELECT n FROM seq"
    )


def build_operator(customers: int):  # type: ignore[no-untyped-def]
    """Products, customers, services and one outage's impact, each one INSERT … SELECT."""
    from django.db import connection, transaction

    from amends.network.models import Product
    from amends.outages.models import Outage

    true, false = ("TRUE", "FALSE") if connection.vendor == "postgresql" else ("1", "0")
    with transaction.atomic(), connection.cursor() as cursor:
        products = [
            Product.objects.create(code=code, name=name, kind=kind, monthly_charge_cents=cents)
            for code, name, kind, cents in (
                ("NBN", "Home Internet", "fixed_broadband", 8900),
                ("MOB", "Mobile", "mobile", 3500),
                ("TV", "TV", "tv", 2500),
            )
        ]
        cursor.execute(
            "INSERT INTO network_customer (external_id, name, preferred_name, segment, language, "
            "email, mobile, phone, push_token, channel_order, consent_email, consent_sms, "
            "consent_push, consent_voice, time_zone, priority_assistance, accessibility_needs, "
            "is_former, payment_reference) "
            "SELECT 'C' || CAST(n AS TEXT), 'Customer ' || CAST(n AS TEXT), '', "
            "CASE WHEN n % 20 = 0 THEN 'small_business' WHEN n % 97 = 0 THEN 'enterprise' "
            "ELSE 'consumer' END, 'en', '', '', '', '', 'email;sms;push;voice', "
            f"{true}, {true}, {true}, {true}, 'Australia/Sydney', {false}, '', "
            f"CASE WHEN n % 50 = 0 THEN {true} ELSE {false} END, '' "
            f"FROM ({_sequence(customers)}) seq"
        )
        # Every customer has a first service; 30 % have a second, on another product.
        for share, offset in ((1, 0), (0.3, 1)):
            cursor.execute(
                "INSERT INTO network_service (external_id, customer_id, product_id, "
                "monthly_charge_cents, address, postcode, locality, state, remoteness, h3_cell, "
                "sla_tier, is_active) "
                "SELECT 'S' || CAST(c.id AS TEXT) || '-' || CAST(%s AS TEXT), c.id, "
                "CASE (c.id + %s) %% 3 WHEN 0 THEN %s WHEN 1 THEN %s ELSE %s END, "
                "1500 + (c.id * 7919) %% 12000, '', '2000', 'Sydney', 'NSW', 'major_city', '', "
                f"'standard', {true} FROM network_customer c WHERE (c.id * 7) %% 10 < %s",
                [offset, offset, *(p.pk for p in products), int(share * 10)],
            )
        outage = Outage.objects.create(
            reference="OUT-2026-0001",
            title="Core routing fault",
            status="resolved",
            detected_at=OUTAGE_START,
            started_at=OUTAGE_START,
        )
        start = connection.ops.adapt_datetimefield_value(OUTAGE_START)
        end = (
            "CAST(%s AS TIMESTAMPTZ) + (1 + (s.id * 31) %% 2880) * INTERVAL '1 minute'"
            if connection.vendor == "postgresql"
            else "datetime(%s, '+' || CAST(1 + (s.id * 31) %% 2880 AS TEXT) || ' minutes')"
        )
        cursor.execute(
            "INSERT INTO outages_impact (outage_id, service_id, customer_id, window_start, "
            f"window_end, end_reason, degree) SELECT %s, s.id, s.customer_id, %s, {end}, "
            "'restored', 'full' FROM network_service s",
            [outage.pk, start, start],
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")
    return outage


def services() -> int:
    from amends.outages.models import Impact

    return Impact.objects.count()


def make_program(outage):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User

    from amends.remedy.services.programs import policy_create, program_create

    author = User.objects.create(username="bench-analyst", is_staff=True, is_superuser=True)
    version = policy_create(
        "bench",
        "Pro rata with goodwill",
        {
            "basis": {"kind": "pro_rata"},
            "goodwill_cents": {"small_business": 2000},
            "minimum_cents": 200,
            "cap_cents": 50000,
        },
    )
    return program_create(author, "Core routing fault", [outage], version)


def time_ours(program):  # type: ignore[no-untyped-def]
    from amends.remedy.services.calculation import calculate

    started = time.perf_counter()
    calculation = calculate("bench", program, as_of=AS_OF)
    return time.perf_counter() - started, calculation


FLOOR_SQL = {
    "postgresql": (
        "CREATE TEMP TABLE floor_base AS SELECT i.customer_id, "
        "ROUND(SUM(s.monthly_charge_cents * EXTRACT(EPOCH FROM i.window_end - i.window_start)) "
        "/ 2628000) AS base_cents FROM outages_impact i "
        "JOIN network_service s ON s.id = i.service_id WHERE i.outage_id = %s "
        "GROUP BY i.customer_id"
    ),
    "sqlite": (
        "CREATE TEMP TABLE floor_base AS SELECT i.customer_id, "
        "(2 * SUM(s.monthly_charge_cents * (strftime('%%s', i.window_end) - "
        "strftime('%%s', i.window_start))) + 2628000) / 5256000 AS base_cents "
        "FROM outages_impact i JOIN network_service s ON s.id = i.service_id "
        "WHERE i.outage_id = %s GROUP BY i.customer_id"
    ),
}


def time_floor(outage) -> float:  # type: ignore[no-untyped-def]
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS floor_base")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL[connection.vendor], [outage.pk])
    return time.perf_counter() - started


def time_write_alone() -> float:
    """What the durable write of the result costs by itself: the floor's rows inserted as
    entitlements (with a fixed explanation of a typical length) into the real, indexed table,
    in customer order as ours inserts them, then rolled back."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO remedy_entitlement (calculation_id, customer_id, eligible, exclusion, "
            "outage_seconds, outage_end, services, base_cents, bonus_cents, interest_cents, "
            "adjustment_cents, total_cents, non_monetary, explanation, inputs_checksum) "
            "SELECT -1, customer_id, %s, '', 0, NULL, 1, base_cents, 0, 0, 0, base_cents, '', "
            "%s, 0 FROM floor_base ORDER BY customer_id",
            [
                True,
                "Home Internet (S123456-0): 14 h 05 min × $89.00/month ÷ 730 h = $1.72; "
                "small-business goodwill $20.00; total $21.72",
            ],
        )
        transaction.set_rollback(True)
    return time.perf_counter() - started


def check_same_base(calculation) -> None:  # type: ignore[no-untyped-def]
    """Every customer's base amount equals the floor's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), SUM(CASE WHEN e.base_cents = f.base_cents THEN 1 ELSE 0 END) "
            "FROM remedy_entitlement e JOIN floor_base f ON f.customer_id = e.customer_id "
            "WHERE e.calculation_id = %s",
            [calculation.pk],
        )
        rows, same = cursor.fetchone()
    print(f"check: {same:,} of {rows:,} customers have the floor's base amount")
    assert rows == calculation.affected_customers and same == rows, (rows, same)


if __name__ == "__main__":
    main()
