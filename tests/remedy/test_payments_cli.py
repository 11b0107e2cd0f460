"""amends remedy review|submit|approve|reject|export|confirm|requeue|residual|notify|close."""

from __future__ import annotations

import csv
import os
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from amends.core.roles import Role
from amends.remedy.models import (
    Payout,
    PayoutBatch,
    PayoutStatus,
    ProgramStatus,
    ResidualEntry,
)
from tests.conftest import write_csv
from tests.remedy.conftest import staff
from tests.remedy.payments_support import approved, calculated

pytestmark = pytest.mark.django_db


def remedy(*args: str) -> str:
    out = StringIO()
    call_command("remedy", *args, stdout=out)
    return out.getvalue()


def test_review_prints_the_figures_an_approver_needs() -> None:
    setup = calculated()
    text = remedy("review", setup.program.reference)
    assert "affected 6, eligible 6, excluded 0; total $29.96" in text
    assert "median $1.72, 95th percentile $21.73, largest $21.73" in text
    assert "made of: Basis, per affected service $9.95; SLA credits $0.00; Goodwill $20.00" in text
    assert "$20 to under $50" in text and "C2" in text


def test_submit_then_approving_your_own_program_is_refused() -> None:
    setup = calculated()
    reference = setup.program.reference
    staff("boss", Role.ADMIN)
    setup.program.author = staff("boss", Role.ADMIN)
    setup.program.save()
    assert "in review" in remedy("submit", reference, "--as", "ana")
    with pytest.raises(CommandError, match="you wrote this program"):
        remedy("approve", reference, "--as", "boss")
    assert "approved calculation v1 (6 customers, $29.96)" in remedy(
        "approve", reference, "--as", "abe", "--version", "1"
    )


def test_reject_sends_it_back() -> None:
    setup = calculated()
    reference = setup.program.reference
    remedy("submit", reference, "--as", "ana")
    assert "back to draft" in remedy("reject", reference, "--reason", "Wrong outage", "--as", "abe")
    setup.program.refresh_from_db()
    assert setup.program.status == ProgramStatus.DRAFT


def test_export_twice_then_confirm(tmp_path: Path) -> None:
    setup = approved()
    reference = setup.program.reference
    out = tmp_path / "credits.csv"
    first = remedy("export", reference, "--method", "bill_credit", "--out", str(out), "--as", "ana")
    # C1 $2.39 + C2 $21.73 + C5 $1.72 + C6 $1.72 (C3 and C4 are former customers)
    assert f"{reference}-BC-001: 4 bill credit(s), $27.56" in first
    written = out.read_bytes()
    again = remedy("export", reference, "--method", "bill_credit", "--out", str(out), "--as", "ana")
    assert "the same file again" in again and out.read_bytes() == written
    rows = list(csv.DictReader(out.open()))
    answer = write_csv(
        tmp_path / "answer.csv",
        [{"payout_id": r["payout_id"], "status": "paid", "billing_reference": "X"} for r in rows],
    )
    text = remedy("confirm", reference, str(answer), "--as", "ana")
    assert "4 paid, 0 rejected, 0 unchanged; batch complete" in text


def test_a_refused_export_leaves_the_file_billing_has_alone(tmp_path: Path) -> None:
    setup = approved()
    reference = setup.program.reference
    out = tmp_path / "credits.csv"
    remedy("export", reference, "--method", "bill_credit", "--out", str(out), "--as", "ana")
    written = out.read_bytes()
    with pytest.raises(CommandError, match="went to billing as csv"):
        remedy(
            "export", reference, "--method", "bill_credit", "--format", "jsonl",
            "--out", str(out), "--as", "ana",
        )  # fmt: skip
    assert out.read_bytes() == written
    assert [path.name for path in tmp_path.iterdir()] == ["credits.csv"]  # no partial file


def test_a_bad_confirmation_file_fails_with_its_lines(tmp_path: Path) -> None:
    setup = approved()
    reference = setup.program.reference
    out = tmp_path / "credits.csv"
    remedy("export", reference, "--method", "bill_credit", "--out", str(out), "--as", "ana")
    first = next(csv.DictReader(out.open()))["payout_id"]
    answer = write_csv(
        tmp_path / "answer.csv",
        [
            {"payout_id": first, "status": "paid"},
            {"payout_id": first, "status": "paid"},
            {"payout_id": "77777", "status": "paid"},
        ],
    )
    with pytest.raises(CommandError) as failed:
        remedy("confirm", reference, str(answer), "--as", "ana")
    message = str(failed.value)
    assert "answer.csv: 2 problem(s); nothing was changed" in message
    assert f"answer.csv:3: payout_id: {first} is repeated (first on line 2)" in message
    assert f"answer.csv:4: payout_id: no payout 77777 in program {reference}" in message
    assert not Payout.objects.filter(status=PayoutStatus.PAID).exists()


def test_export_refuses_an_out_that_is_not_a_regular_file(tmp_path: Path) -> None:
    reference = approved().program.reference
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(CommandError, match="out: .*pipe is not a regular file"):
        remedy("export", reference, "--method", "refund", "--out", str(pipe), "--as", "ana")
    assert stat.S_ISFIFO(pipe.stat().st_mode)  # left as it was, not replaced by a file
    assert not PayoutBatch.objects.exists()


def test_residual_and_close_refusals_name_what_is_wrong(tmp_path: Path) -> None:
    setup = approved()
    reference = setup.program.reference
    out = str(tmp_path / "refunds.csv")
    remedy("export", reference, "--method", "refund", "--out", out, "--as", "ana")
    with pytest.raises(CommandError, match="efforts: say what was tried"):
        remedy(
            "residual", reference, "--efforts", "no", "--kind", "charity",
            "--destination", "Foodbank", "--as", "ana",
        )  # fmt: skip
    text = remedy(
        "residual", reference, "--efforts", "Emailed twice and wrote to the last address.",
        "--kind", "charity", "--destination", "Foodbank", "--as", "ana",
    )  # fmt: skip
    assert "1 payout(s) moved to the residual ledger (Foodbank)" in text
    assert ResidualEntry.objects.count() == 1
    with pytest.raises(CommandError, match="not every payout is settled"):
        remedy("close", reference, "--as", "ana")
