"""Four-eyes approval: submit → approve by a second person, or reject with reasons; audited."""

from __future__ import annotations

import pytest

from amends.core.errors import AmendsError, Conflict
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.remedy.models import ProgramStatus
from amends.remedy.services import approval, payments
from amends.remedy.services.calculation import calculate
from amends.remedy.services.review import latest_rejection
from tests.remedy.conftest import staff
from tests.remedy.payments_support import AS_OF, approved, calculated, latest

pytestmark = pytest.mark.django_db


def test_a_second_approver_approves_the_latest_calculation() -> None:
    setup = calculated()
    approval.program_submit(actor=setup.analyst, program=setup.program)
    program = approval.program_approve(actor=setup.approver, program=setup.program, version=1)
    assert program.status == ProgramStatus.APPROVED
    assert program.approver == setup.approver
    assert program.approved_calculation == latest(program)
    entry = AuditEntry.objects.filter(action="remedy.program_approve").get()
    assert entry.actor == "abe" and entry.after["version"] == 1


def test_approving_your_own_program_is_refused() -> None:
    setup = calculated()
    boss = staff("boss", Role.ADMIN)  # admins may approve, but not what they wrote
    setup.program.author = boss
    setup.program.save()
    approval.program_submit(actor=setup.analyst, program=setup.program)
    with pytest.raises(AmendsError, match="you wrote this program") as refused:
        approval.program_approve(actor=boss, program=setup.program)
    assert refused.value.status == 403
    setup.program.refresh_from_db()
    assert setup.program.status == ProgramStatus.IN_REVIEW
    assert setup.program.approved_calculation is None


def test_approving_a_calculation_you_ran_is_refused() -> None:
    setup = calculated()
    boss = staff("boss", Role.ADMIN)  # may calculate and approve, but not both
    calculate(boss, setup.program, as_of=AS_OF)
    approval.program_submit(actor=setup.analyst, program=setup.program)
    with pytest.raises(AmendsError, match="you ran calculation version 2"):
        approval.program_approve(actor=boss, program=setup.program)


def test_a_calculation_newer_than_the_one_reviewed_is_not_approved_unseen() -> None:
    setup = calculated()
    calculate(setup.analyst, setup.program, as_of=AS_OF)
    approval.program_submit(actor=setup.analyst, program=setup.program)
    with pytest.raises(Conflict, match="version 2 was calculated after the version 1"):
        approval.program_approve(actor=setup.approver, program=setup.program, version=1)


def test_only_approvers_approve_and_only_analysts_submit() -> None:
    setup = calculated()
    with pytest.raises(AmendsError, match="no role that may submit"):
        approval.program_submit(actor=staff("vic", Role.VIEWER), program=setup.program)
    approval.program_submit(actor=setup.analyst, program=setup.program)
    with pytest.raises(AmendsError, match="no role that may approve"):
        approval.program_approve(
            actor=staff("ann", Role.REMEDIATION_ANALYST), program=setup.program
        )


def test_reject_needs_reasons_and_sends_the_program_back_to_draft() -> None:
    setup = calculated()
    approval.program_submit(actor=setup.analyst, program=setup.program)
    with pytest.raises(AmendsError) as missing:
        approval.program_reject(actor=setup.approver, program=setup.program, reasons="  ")
    assert missing.value.field == "reasons"
    program = approval.program_reject(
        actor=setup.approver, program=setup.program, reasons="Add the VIC outage too."
    )
    assert program.status == ProgramStatus.DRAFT
    rejection = latest_rejection(program)
    assert rejection is not None and rejection.after["reasons"] == "Add the VIC outage too."


def test_submit_needs_a_calculated_program() -> None:
    setup = approved()
    with pytest.raises(Conflict, match="is approved; this needs it calculated"):
        approval.program_submit(actor=setup.analyst, program=setup.program)


def test_a_recalculation_after_approval_needs_a_new_approval() -> None:
    setup = approved()
    calculate(setup.analyst, setup.program, as_of=AS_OF)
    setup.program.refresh_from_db()
    assert setup.program.status == ProgramStatus.CALCULATED
    with pytest.raises(Conflict, match="needs it approved"):
        payments.payouts_create(actor=setup.analyst, program=setup.program)
    approval.program_submit(actor=setup.analyst, program=setup.program)
    program = approval.program_approve(actor=setup.approver, program=setup.program)
    assert program.approved_calculation == latest(program)
    assert program.approved_calculation.version == 2
