"""A program with more untold customers than a customer list could carry gets ONE "credit
applied" notice reaching all of them, approved once; running it again is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings

from amends.comms.audience import count_audience
from amends.comms.models import Delivery, Notice, NoticeStatus
from amends.comms.services import notice_approve
from amends.core.errors import Conflict
from amends.core.roles import Role
from amends.network.models import Product
from amends.outages.models import Outage
from amends.remedy.models import Payout, PayoutStatus, Program
from amends.remedy.services import approval, credit_notices, payments
from amends.remedy.services.calculation import calculate
from tests.remedy.conftest import T0, outage_row, policy, program, staff
from tests.remedy.payments_support import AS_OF

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CUSTOMERS = 25_001


def _customers_out_for_fourteen_hours(count: int) -> Outage:
    """``count`` reachable customers, one broadband service each, all out 14 hours in one
    outage: three statements."""
    product = Product.objects.create(
        code="NBN", name="Home Internet", kind="fixed_broadband", monthly_charge_cents=8900
    )
    outage = outage_row()
    start = connection.ops.adapt_datetimefield_value(T0)
    end = connection.ops.adapt_datetimefield_value(T0 + timedelta(hours=14))
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s) "
            "INSERT INTO network_customer (external_id, name, preferred_name, segment, language, "
            "email, mobile, phone, push_token, channel_order, consent_email, consent_sms, "
            "consent_push, consent_voice, time_zone, priority_assistance, accessibility_needs, "
            "is_former, payment_reference) SELECT 'K' || CAST(n AS TEXT), 'Customer', 'Sam', "
            "'consumer', 'en', 'k' || CAST(n AS TEXT) || '@example.com', '', '', '', 'email', "
            "%s, %s, %s, %s, 'Australia/Sydney', %s, '', %s, '' FROM seq",
            [count, True, True, True, True, False, False],
        )
        cursor.execute(
            "INSERT INTO network_service (external_id, customer_id, product_id, "
            "monthly_charge_cents, address, postcode, locality, state, remoteness, h3_cell, "
            "sla_tier, is_active) SELECT 'S' || external_id, id, %s, 8900, '', '2000', "
            "'Sydney', 'NSW', 'major_city', '', 'standard', %s FROM network_customer",
            [product.pk, True],
        )
        cursor.execute(
            "INSERT INTO outages_impact (outage_id, service_id, customer_id, window_start, "
            "window_end, end_reason, degree) SELECT %s, id, customer_id, %s, %s, 'restored', "
            "'full' FROM network_service",
            [outage.pk, start, end],
        )
    return outage


def _paid_program(outage: Outage) -> Program:
    """Calculated, approved by a second person, every bill credit paid (billing's answer
    written as one statement: importing it is tested in test_payments)."""
    analyst, approver = staff("ana"), staff("abe", Role.APPROVER)
    made = program(analyst, [outage], policy())
    calculate(analyst, made, as_of=AS_OF)
    approval.program_submit(actor=analyst, program=made)
    made = approval.program_approve(actor=approver, program=made)
    payments.payouts_create(actor=analyst, program=made)
    Payout.objects.filter(program=made).update(status=PayoutStatus.PAID, paid_at=AS_OF)
    return made


@override_settings(AMENDS_APPROVAL_THRESHOLD=1000)
def test_a_large_program_gets_one_notice_for_all_its_customers() -> None:
    paid = _paid_program(_customers_out_for_fourteen_hours(CUSTOMERS))
    assert credit_notices.untold_customers(paid) == CUSTOMERS
    cleo = staff("cleo", Role.COMMUNICATIONS)

    (notice,) = credit_notices.credit_notices_send(actor=cleo, program=paid)

    assert Notice.objects.count() == 1 and notice.audience_list == []
    assert notice.status == NoticeStatus.AWAITING_APPROVAL  # a second person's, once
    assert notice.recipients == count_audience(notice).customers == CUSTOMERS
    assert Payout.objects.filter(credit_notice__notice=notice).count() == CUSTOMERS
    released = notice_approve(actor=staff("approver", Role.APPROVER), notice=notice)
    assert released.recipients == CUSTOMERS
    # Every message on its way: nobody is "not reached", looked up per customer by index.
    assert credit_notices.telling(paid) == credit_notices.Telling(untold=0, not_reached=0)
    assert Delivery.objects.filter(notice=notice).values("customer_id").distinct().count() == (
        CUSTOMERS
    )
    with pytest.raises(Conflict, match="every customer with a confirmed credit has been told"):
        credit_notices.credit_notices_send(actor=cleo, program=paid)
    assert Notice.objects.count() == 1
