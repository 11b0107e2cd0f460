"""Paying an approved program: payouts, idempotent billing batches, confirmations imported
whole or not at all, interest to the payment date, the residual ledger and closing."""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from amends.core.errors import AmendsError, Conflict
from amends.core.models import AuditEntry
from amends.remedy.models import (
    BatchFormat,
    Payout,
    PayoutBatch,
    PayoutMethod,
    PayoutStatus,
    ProgramStatus,
    ResidualEntry,
)
from amends.remedy.services import payment_files, payments
from amends.remedy.services.confirmations import ConfirmationRejected, confirmations_import
from tests.conftest import write_csv
from tests.remedy.payments_support import Setup, approved

pytestmark = pytest.mark.django_db

FIXED_100 = {"basis": {"kind": "fixed", "amount_cents": 10000}, "interest": {}}


def exported_rows(setup: Setup, method: str = PayoutMethod.BILL_CREDIT) -> list[dict[str, str]]:
    batch = payments.batch_export(actor=setup.analyst, program=setup.program, method=method).batch
    handle = io.BytesIO()
    payment_files.write(batch, handle)
    return list(csv.DictReader(io.StringIO(handle.getvalue().decode())))


def answer(path: Path, *rows: tuple[object, str, str, str]) -> Path:
    return write_csv(
        path,
        [
            {"payout_id": pid, "status": status, "billing_reference": ref, "reason": reason}
            for pid, status, ref, reason in rows
        ],
    )


def test_payouts_follow_who_the_customer_is() -> None:
    setup = approved()
    counts = payments.payouts_create(actor=setup.analyst, program=setup.program)
    assert counts == {
        "bill_credit/pending": 4,  # C1, C2, C5, C6: current customers
        "refund/efforts": 1,  # C3: former, no payment details
        "refund/pending": 1,  # C4: former, refund details on file
    }
    setup.program.refresh_from_db()
    assert setup.program.status == ProgramStatus.PAYING
    assert setup.payout("C4").payment_reference == "BSB-4"
    assert setup.payout("C2").amount_cents == setup.entitlement("C2").total_cents == 2173


def test_exporting_twice_gives_the_same_batch_and_file_and_never_a_second_credit() -> None:
    setup = approved()
    first = payments.batch_export(actor=setup.analyst, program=setup.program, method="bill_credit")
    second = payments.batch_export(actor=setup.analyst, program=setup.program, method="bill_credit")
    assert not first.reused and second.reused
    assert second.batch.pk == first.batch.pk
    assert first.batch.batch_id == f"{setup.program.reference}-BC-001"
    files = []
    for _ in range(2):
        handle = io.BytesIO()
        payment_files.write(second.batch, handle)
        files.append(handle.getvalue())
    assert files[0] == files[1]
    rows = list(csv.DictReader(io.StringIO(files[0].decode())))
    assert sorted(r["customer_external_id"] for r in rows) == ["C1", "C2", "C5", "C6"]
    assert {r["batch_id"] for r in rows} == {first.batch.batch_id}
    assert next(r for r in rows if r["customer_external_id"] == "C2")["amount"] == "21.73"
    assert PayoutBatch.objects.count() == 1
    assert Payout.objects.filter(status=PayoutStatus.EXPORTED).count() == 4
    assert AuditEntry.objects.filter(action="remedy.batch_export").count() == 1


def test_a_batch_asked_for_in_another_format_is_refused_not_made_again() -> None:
    setup = approved()
    payments.batch_export(actor=setup.analyst, program=setup.program, method="bill_credit")
    with pytest.raises(Conflict, match="went to billing as csv"):
        payments.batch_export(
            actor=setup.analyst, program=setup.program, method="bill_credit", file_format="jsonl"
        )


def test_json_lines_carry_the_same_fields() -> None:
    setup = approved()
    batch = payments.batch_export(
        actor=setup.analyst, program=setup.program, method="refund", file_format="jsonl"
    ).batch
    handle = io.BytesIO()
    assert payment_files.write(batch, handle) == batch.sha256
    (row,) = [json.loads(line) for line in handle.getvalue().decode().splitlines()]
    assert row["customer_external_id"] == "C4" and row["reference"] == "BSB-4"
    assert row["method"] == "refund" and row["batch_id"].endswith("-RF-001")


def test_the_billing_file_byte_for_byte() -> None:
    """The file's format, whichever database writes it (COPY on PostgreSQL): quoting, empty
    ids, amounts, the interest in the description, and JSON escapes."""
    setup = approved()
    batch = payments.batch_export(actor=setup.analyst, program=setup.program, method="refund").batch
    tricky = 'BSB 062-000, "Ng" Lê\\tab\t\nline'
    Payout.objects.filter(batch=batch).update(
        amount_cents=123456789, interest_cents=100050, payment_reference=tricky
    )
    payout = setup.payout("C4")
    ref, day = setup.program.reference, batch.payment_date.isoformat()
    head = (
        f"{batch.batch_id},{payout.pk},{payout.entitlement_id},,C4,refund,123456789,1234567.89,AUD"
    )
    assert b"".join(payment_files.encoded(batch)).decode() == (
        f"{','.join(payment_files.COLUMNS)}\n"
        f'{head},100050,"BSB 062-000, ""Ng"" Lê\\tab\t\nline",'
        f'"Outage refund {ref} incl. $1,000.50 interest",{day}\n'
    )
    batch.file_format = BatchFormat.JSONL
    assert b"".join(payment_files.encoded(batch)).decode() == (
        f'{{"batch_id":"{batch.batch_id}","payout_id":{payout.pk},'
        f'"entitlement_id":{payout.entitlement_id},"claim_id":"","customer_external_id":"C4",'
        '"method":"refund","amount_cents":123456789,"amount":"1234567.89","currency":"AUD",'
        '"interest_cents":100050,"reference":"BSB 062-000, \\"Ng\\" Lê\\\\tab\\t\\nline",'
        f'"description":"Outage refund {ref} incl. $1,000.50 interest","payment_date":"{day}"}}\n'
    )


def test_a_confirmation_with_unknown_or_repeated_ids_changes_nothing(tmp_path: Path) -> None:
    setup = approved()
    rows = exported_rows(setup)
    ids = [int(r["payout_id"]) for r in rows]
    bad = answer(
        tmp_path / "answer.csv",
        (ids[0], "paid", "BILL-1", ""),
        (999_999, "paid", "BILL-2", ""),
        (ids[1], "paid", "BILL-3", ""),
        (ids[0], "rejected", "", "account closed"),
        (ids[2], "maybe", "", ""),
        (ids[3], "rejected", "", ""),
    )
    with pytest.raises(ConfirmationRejected) as rejected:
        confirmations_import(actor=setup.analyst, program=setup.program, path=bad)
    assert rejected.value.problems == [
        "answer.csv:3: payout_id: no payout 999999 in program " + setup.program.reference,
        f"answer.csv:5: payout_id: {ids[0]} is repeated (first on line 2)",
        "answer.csv:6: status: 'maybe' is not paid or rejected",
        "answer.csv:7: reason: say why billing rejected it",
    ]
    assert set(Payout.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        PayoutStatus.EXPORTED
    }
    assert PayoutBatch.objects.get().confirmed_at is None


def test_a_confirmation_answers_one_batch(tmp_path: Path) -> None:
    setup = approved()
    credits = [int(r["payout_id"]) for r in exported_rows(setup)]
    refund = int(exported_rows(setup, PayoutMethod.REFUND)[0]["payout_id"])
    mixed = answer(
        tmp_path / "mixed.csv", (credits[0], "paid", "B1", ""), (refund, "paid", "B2", "")
    )
    with pytest.raises(ConfirmationRejected) as rejected:
        confirmations_import(actor=setup.analyst, program=setup.program, path=mixed)
    (problem,) = rejected.value.problems
    assert problem.startswith(f"mixed.csv:3: payout_id: payout {refund} is in batch ")
    assert problem.endswith("-BC-001: a confirmation file answers one batch")


def test_confirmations_apply_and_importing_them_again_changes_nothing(tmp_path: Path) -> None:
    setup = approved()
    ids = [int(r["payout_id"]) for r in exported_rows(setup)]
    good = answer(
        tmp_path / "good.csv",
        *[(pid, "paid", f"BILL-{pid}", "") for pid in ids[:3]],
        (ids[3], "rejected", "", "account closed"),
    )
    done = confirmations_import(actor=setup.analyst, program=setup.program, path=good)
    assert (done.paid, done.rejected, done.unchanged, done.batch_complete) == (3, 1, 0, True)
    paid = Payout.objects.get(pk=ids[0])
    assert paid.status == PayoutStatus.PAID and paid.billing_reference == f"BILL-{ids[0]}"
    assert paid.paid_at is not None
    assert Payout.objects.get(pk=ids[3]).rejection_reason == "account closed"
    assert PayoutBatch.objects.get().confirmed_at is not None
    again = confirmations_import(actor=setup.analyst, program=setup.program, path=good)
    assert (again.paid, again.rejected, again.unchanged) == (0, 0, 4)


def test_plain_and_parsed_lines_of_a_confirmation_mean_the_same(tmp_path: Path) -> None:
    """On PostgreSQL plain lines go to COPY as they are and the others are parsed: an empty
    field, a capital, spaces or quotes must make no difference."""
    setup = approved()
    ids = [int(r["payout_id"]) for r in exported_rows(setup)]
    path = tmp_path / "mixed.csv"
    path.write_text(
        "status,payout_id,billing_reference,reason\n"  # billing's own column order
        f"paid,{ids[0]},BILL-1,\n"
        f"PAID,{ids[1]},,\n"
        f" paid ,{ids[2]},BILL-3,\n"
        f'rejected,{ids[3]},,"closed, moved away"\n'
    )
    done = confirmations_import(actor=setup.analyst, program=setup.program, path=path)
    assert (done.paid, done.rejected, done.unchanged, done.batch_complete) == (3, 1, 0, True)
    stored = dict(Payout.objects.filter(pk__in=ids).values_list("pk", "billing_reference"))
    assert [stored[pid] for pid in ids] == ["BILL-1", "", "BILL-3", ""]
    assert Payout.objects.get(pk=ids[3]).rejection_reason == "closed, moved away"
    again = confirmations_import(actor=setup.analyst, program=setup.program, path=path)
    assert (again.paid, again.rejected, again.unchanged) == (0, 0, 4)


def test_a_rejected_payout_goes_out_again_in_a_new_batch(tmp_path: Path) -> None:
    setup = approved()
    ids = [int(r["payout_id"]) for r in exported_rows(setup)]
    confirmations_import(
        actor=setup.analyst,
        program=setup.program,
        path=answer(
            tmp_path / "a.csv",
            *[(pid, "paid", "B", "") for pid in ids[1:]],
            (ids[0], "rejected", "", "wrong account"),
        ),
    )
    assert payments.payouts_requeue(actor=setup.analyst, program=setup.program) == 1
    rows = exported_rows(setup)
    assert [int(r["payout_id"]) for r in rows] == [ids[0]]
    assert rows[0]["batch_id"] == f"{setup.program.reference}-BC-002"


def test_refunds_carry_interest_to_the_payment_date() -> None:
    setup = approved(FIXED_100)  # $100 a service, interest at the default rate
    entitlement = setup.entitlement("C4")
    principal = entitlement.total_cents - entitlement.interest_cents
    assert principal == 10000
    batch = payments.batch_export(actor=setup.analyst, program=setup.program, method="refund").batch
    payout = setup.payout("C4")
    # Simple interest: principal × rate × whole days from the customer's outage end to the
    # payment (the export), ÷ 365, rounded half up once.
    days = (batch.created_at - entitlement.outage_end).days
    rate = setup.program.approved_calculation.interest_rate
    expected = (Decimal(principal) * rate / 100 * days / 365).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    assert days > 200 and expected > 500
    assert payout.interest_cents == expected
    assert payout.amount_cents == principal + expected == batch.total_cents
    # A bill credit is paid as approved.
    payments.batch_export(actor=setup.analyst, program=setup.program, method="bill_credit")
    assert setup.payout("C1").amount_cents == setup.entitlement("C1").total_cents


EFFORTS = "Emailed 2 May and 16 May, letter to last address 20 May; no reply."


def test_small_amounts_of_former_customers_without_details_may_go_to_charity() -> None:
    setup = approved()
    payments.payouts_create(actor=setup.analyst, program=setup.program)
    moved = payments.residual_record(
        actor=setup.analyst,
        program=setup.program,
        efforts=EFFORTS,
        destination_kind="charity",
        destination="Foodbank Australia",
    )
    assert moved == 1
    entry = ResidualEntry.objects.get()
    payout = setup.payout("C3")
    assert entry.customer.external_id == "C3" and payout.status == PayoutStatus.RESIDUAL
    assert entry.amount_cents == payout.amount_cents
    assert entry.amount_cents == 172 + entry.interest_cents and entry.interest_cents > 0
    assert entry.efforts == EFFORTS and entry.destination_kind == "charity"


def test_more_than_five_dollars_never_goes_to_charity() -> None:
    setup = approved(FIXED_100)
    payments.payouts_create(actor=setup.analyst, program=setup.program)
    record = {"actor": setup.analyst, "program": setup.program, "efforts": EFFORTS}
    with pytest.raises(Conflict, match=r"over \$5 after interest"):
        payments.residual_record(**record, destination_kind="charity", destination="Foodbank")
    assert not ResidualEntry.objects.exists()
    assert setup.payout("C3").status == PayoutStatus.EFFORTS
    payments.residual_record(**record, destination_kind="unclaimed", destination="ASIC")
    assert ResidualEntry.objects.get().destination_kind == "unclaimed"


def test_current_customers_are_always_paid(tmp_path: Path) -> None:
    setup = approved()
    ids = [int(r["payout_id"]) for r in exported_rows(setup)]
    confirmations_import(
        actor=setup.analyst,
        program=setup.program,
        path=answer(tmp_path / "a.csv", *[(pid, "rejected", "", "no account") for pid in ids]),
    )
    with pytest.raises(Conflict, match="current customers are always paid"):
        payments.residual_record(
            actor=setup.analyst,
            program=setup.program,
            payout_ids=ids[:1],
            efforts=EFFORTS,
            destination_kind="held",
            destination="Trust account",
        )
    assert not ResidualEntry.objects.exists()


def test_residual_needs_a_record_of_reasonable_efforts() -> None:
    setup = approved()
    payments.payouts_create(actor=setup.analyst, program=setup.program)
    with pytest.raises(AmendsError) as refused:
        payments.residual_record(
            actor=setup.analyst,
            program=setup.program,
            efforts="tried",
            destination_kind="charity",
            destination="Foodbank",
        )
    assert refused.value.field == "efforts"


def test_a_program_closes_only_when_every_payout_is_settled(tmp_path: Path) -> None:
    setup = approved()
    ids = [int(r["payout_id"]) for r in exported_rows(setup)]
    with pytest.raises(Conflict, match="4 exported to billing"):
        payments.program_close(actor=setup.analyst, program=setup.program)
    confirmations_import(
        actor=setup.analyst,
        program=setup.program,
        path=answer(tmp_path / "a.csv", *[(pid, "paid", "B", "") for pid in ids]),
    )
    refund = [int(r["payout_id"]) for r in exported_rows(setup, PayoutMethod.REFUND)]
    confirmations_import(
        actor=setup.analyst,
        program=setup.program,
        path=answer(tmp_path / "b.csv", (refund[0], "paid", "R", "")),
    )
    with pytest.raises(Conflict, match="1 awaiting payment details"):
        payments.program_close(actor=setup.analyst, program=setup.program)
    payments.residual_record(
        actor=setup.analyst,
        program=setup.program,
        efforts=EFFORTS,
        destination_kind="charity",
        destination="Foodbank",
    )
    program = payments.program_close(actor=setup.analyst, program=setup.program)
    assert program.status == ProgramStatus.CLOSED and program.closed_at is not None
