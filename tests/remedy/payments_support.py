"""A program ready for review and payment, for the payments tests.

The operator is tests.factories' (C1 … C6, every service out 14 h 05 min from T0), with C3 a
former customer without payment details and C4 a former customer with them. The calculation
is the engine's own ``calculate()`` over that impact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User

from amends.core.roles import Role
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.remedy.models import Calculation, Entitlement, Payout, Program
from amends.remedy.services import approval
from amends.remedy.services.calculation import calculate
from tests.factories import build_operator
from tests.remedy.conftest import T0, outage_row, policy, program, staff, window

AS_OF = T0 + timedelta(days=2)
# Pro-rata with goodwill, a $1 minimum and 10 % interest a year on late refunds.
DOCUMENT: dict[str, Any] = {
    "basis": {"kind": "pro_rata"},
    "goodwill_cents": {"small_business": 2000},
    "interest": {"annual_rate_percent": "10"},
}


@dataclass
class Setup:
    analyst: User
    approver: User
    outage: Outage
    program: Program

    def customer(self, external_id: str) -> Customer:
        return Customer.objects.get(external_id=external_id)

    def payout(self, external_id: str) -> Payout:
        return Payout.objects.get(program=self.program, customer__external_id=external_id)

    def entitlement(self, external_id: str) -> Entitlement:
        return Entitlement.objects.get(
            calculation=self.program.approved_calculation, customer__external_id=external_id
        )


def calculated(document: dict[str, Any] | None = None) -> Setup:
    """The operator, its 14-hour outage and a program calculated by the analyst."""
    op = build_operator()
    Customer.objects.filter(external_id="C3").update(is_former=True, payment_reference="")
    Customer.objects.filter(external_id="C4").update(is_former=True, payment_reference="BSB-4")
    outage = outage_row()
    for service in op.services.values():
        window(outage, service, T0, T0 + timedelta(hours=14, minutes=5))
    analyst = staff("ana", Role.REMEDIATION_ANALYST)
    approver = staff("abe", Role.APPROVER)
    made = program(analyst, [outage], policy(document or DOCUMENT))
    calculate(analyst, made, as_of=AS_OF)
    made.refresh_from_db()
    return Setup(analyst, approver, outage, made)


def approved(document: dict[str, Any] | None = None) -> Setup:
    """The same, submitted by the analyst and approved by a second person."""
    setup = calculated(document)
    approval.program_submit(actor=setup.analyst, program=setup.program)
    setup.program = approval.program_approve(actor=setup.approver, program=setup.program)
    return setup


def latest(program: Program) -> Calculation:
    found = approval.latest_calculation(program)
    assert found is not None
    return found
