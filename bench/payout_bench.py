"""Benchmark paying a program: payouts, the billing file and billing's confirmations.

    DATABASE_URL=postgres://… python bench/payout_bench.py [--size N]

Builds N customers (default 1 M) with their impact the way ``remedy_bench`` does, calculates
and approves a program (pro-rata, small-business goodwill; the 2 % former customers, given
refund details, get refunds), then times, once each (every step changes state, so it cannot
be repeated):

* payouts: ``payouts_create`` (one payout per eligible entitlement);
* export: ``batch_export`` of the bill credits and the file written as ``amends remedy export``
  writes it (the new batch, its SHA-256 and the file);
* export again: the same unconfirmed batch written again, checked against its SHA-256;
* confirm: billing's answer (every line paid) imported with ``confirmations_import``;

against the floor, three times (median): a bare ``COPY (SELECT …) TO STDOUT`` of the same
rows' columns into a file on PostgreSQL (on SQLite, a plain SELECT through ``csv.writer``).
The ratio is the export's to the floor; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _database import scratch_database  # noqa: E402
from remedy_bench import AS_OF, build_operator  # noqa: E402

RUNS = 3
PASSWORD = "bench-password-1"  # noqa: S105 (scratch accounts in a scratch database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="customers (default 1M)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="amends-payout-bench-") as tmp,
        scratch_database("amends_bench_payout"),
    ):
        os.environ.setdefault("AMENDS_DATA_DIR", tmp)
        result = run(size=args.size, folder=Path(tmp))
    print(json.dumps(result))


def timed(label: str, action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    print(f"{label:<13} {seconds:7.2f} s")
    return seconds, result


def run(*, size: int, folder: Path) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amends.settings")
    django.setup()
    from django.core.management import call_command

    from amends.remedy.services import confirmations, payments

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    outage = build_operator(size)
    analyst, program = approved_program(outage)
    print(f"setup: {size:,} customers, approved in {time.perf_counter() - started:.0f} s")

    def export() -> Any:
        with (folder / "credits.csv").open("wb") as handle:
            return payments.batch_export(
                actor=analyst, program=program, method="bill_credit", handle=handle
            ).batch

    def export_again() -> None:
        with (folder / "again.csv").open("wb") as handle:
            again = payments.batch_export(
                actor=analyst, program=program, method="bill_credit", handle=handle
            )
        assert again.reused

    created, counts = timed(
        "payouts", lambda: payments.payouts_create(actor=analyst, program=program)
    )
    exported, batch = timed("export", export)
    again, _ = timed("export again", export_again)
    answer = paid_answer(folder / "credits.csv", folder / "answer.csv")
    confirmed, done = timed(
        "confirm",
        lambda: confirmations.confirmations_import(actor=analyst, program=program, path=answer),
    )
    assert done.paid == batch.items and done.batch_complete, done
    floors = [floor(batch, folder / "floor.csv") for _ in range(RUNS)]
    best_floor = statistics.median(floors)
    print(f"floor         {best_floor:7.2f} s median of {RUNS} — runs "
          f"{', '.join(f'{s:.2f}' for s in floors)}")  # fmt: skip
    print(f"payouts: {counts}; batch {batch.items:,} lines, {batch.sha256[:12]}…")
    print(f"ratio: export {exported / best_floor:.2f}x the floor")
    return {
        "bench": "payout",
        "n": size,
        "payouts": round(created, 3),
        "export_again": round(again, 3),
        "confirm": round(confirmed, 3),
        "ours": round(exported, 3),
        "floor": round(best_floor, 3),
        "ratio": round(exported / best_floor, 3),
        "unit": "s",
    }


def approved_program(outage: Any) -> tuple[Any, Any]:
    """A program over the remedy bench's outage, calculated and submitted by the analyst and
    approved by a second person."""
    from django.db import connection

    from amends.core.roles import Role
    from amends.core.services import staff_user_set
    from amends.network.models import Customer
    from amends.remedy.services import approval
    from amends.remedy.services.calculation import calculate
    from amends.remedy.services.programs import policy_create, program_create

    analyst = staff_user_set(
        actor="bench", username="analyst", role=Role.REMEDIATION_ANALYST, password=PASSWORD
    )
    approver = staff_user_set(
        actor="bench", username="approver", role=Role.APPROVER, password=PASSWORD
    )
    # The former customers (every 50th) with refund details: their payouts are refunds.
    Customer.objects.filter(is_former=True).update(payment_reference="BSB-062-000")
    document = {"basis": {"kind": "pro_rata"}, "goodwill_cents": {"small_business": 2000}}
    version = policy_create("bench", "Pro rata with goodwill", document)
    program = program_create(analyst, "Core routing fault", [outage], version)
    calculate(analyst, program, as_of=AS_OF)
    approval.program_submit(actor=analyst, program=program)
    program = approval.program_approve(actor=approver, program=program)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return analyst, program


def paid_answer(exported: Path, answer: Path) -> Path:
    """Billing's confirmation file: every line of the export paid."""
    with exported.open(newline="") as rows, answer.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["payout_id", "status", "billing_reference"])
        for row in csv.DictReader(rows):
            writer.writerow([row["payout_id"], "paid", f"INV-{row['payout_id']}"])
    return answer


FLOOR_SELECT = (
    "SELECT p.id, p.entitlement_id, p.claim_id, c.external_id, p.method, p.amount_cents, "
    "p.interest_cents, p.payment_reference FROM remedy_payout p "
    "JOIN network_customer c ON c.id = p.customer_id "
    "WHERE p.program_id = {program} AND p.batch_id = {batch} ORDER BY p.id"
)


def floor(batch: Any, path: Path) -> float:
    """The same rows' columns straight out of the database into a file."""
    from django.db import connection

    select = FLOOR_SELECT.format(program=int(batch.program_id), batch=int(batch.pk))
    started = time.perf_counter()
    with connection.cursor() as cursor, path.open("wb") as handle:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv)") as copy:  # noqa: S608
                for data in copy:
                    handle.write(data)
        else:
            cursor.execute(select)
            text = open(handle.fileno(), "w", closefd=False, newline="")  # noqa: SIM115
            writer = csv.writer(text, lineterminator="\n")
            while rows := cursor.fetchmany(10_000):
                writer.writerows(rows)
            text.flush()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
