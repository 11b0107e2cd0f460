"""Who a notice reaches and on which channel: consent, addresses, order, outage-aware routing,
priority — all chosen set-based."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from amends.comms.audience import choices_sql, count_audience
from amends.comms.models import Audience, Notice
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.models import Customer
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_restore
from tests.factories import build_operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def comms_user() -> User:
    return staff_user_set(
        actor="t", username="cleo", role=Role.COMMUNICATIONS, password="pw-123456-x"
    )


def chosen(notice: Notice) -> dict[str, tuple[str, int]]:
    """customer external id → (channel, held) of each reachable customer."""
    from django.db import connection

    choices, params = choices_sql(notice)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id, channel, held FROM ({choices}) r WHERE channel IS NOT NULL",
            params,
        )
        rows = cursor.fetchall()
    names = dict(Customer.objects.values_list("id", "external_id"))
    return {names[cid]: (channel, held) for cid, channel, held in rows}


def test_channel_follows_consent_address_order_and_mobile_outage(comms_user: User) -> None:
    build_operator()
    Customer.objects.filter(external_id="C1").update(
        email="c1@example.com", channel_order="sms;email"
    )
    Customer.objects.filter(external_id="C2").update(
        email="c2@example.com", channel_order="email;sms", consent_email=False
    )
    Customer.objects.filter(external_id="C4").update(channel_order="sms;email")  # no email
    Customer.objects.filter(external_id="C3").update(
        mobile="", phone="+61298765432", channel_order="sms;voice"
    )
    # X1 carries C1's mobile (S2) and broadband, C2's broadband; N2 carries C3, C4 (C4 mobile).
    outage = outage_declare(
        actor="nmc",
        title="Fault",
        scope_items=[
            ScopeSpec(kind="element", element="X1"),
            ScopeSpec(kind="element", element="X2"),
        ],
    ).outage
    notice = Notice.objects.create(
        outage=outage, kind="acknowledge", audience=Audience.ALL_AFFECTED, author=comms_user
    )
    assert chosen(notice) == {
        "C1": ("email", 0),  # prefers SMS, but its mobile is down: email now
        "C2": ("sms", 0),  # opted out of email; its mobile is fine
        "C3": ("voice", 0),  # no mobile: the landline
        "C4": ("sms", 1),  # mobile down and no other channel: held for restoration
    }
    counts = count_audience(notice)
    assert (counts.customers, counts.reachable, counts.held) == (4, 4, 1)
    assert counts.by_channel == {"email": 1, "sms": 2, "voice": 1}
    assert counts.by_priority == {0: 1, 1: 1, 2: 2}  # C3 priority assistance, C2 business


def test_unreachable_customers_are_counted_with_a_reason(comms_user: User) -> None:
    build_operator()
    Customer.objects.filter(external_id="C5").update(mobile="", email="", phone="")
    Customer.objects.filter(external_id="C6").update(consent_sms=False, consent_voice=False)
    outage = outage_declare(
        actor="nmc", title="Fault", scope_items=[ScopeSpec(kind="state", state="VIC")]
    ).outage
    notice = Notice.objects.create(
        outage=outage, kind="acknowledge", audience=Audience.ALL_AFFECTED, author=comms_user
    )
    counts = count_audience(notice)
    assert counts.reachable == 0
    assert counts.unreachable == {
        "no contact details": 1,
        "opted out of every channel they have": 1,
    }


def test_audiences_all_still_restored_segment_list(comms_user: User) -> None:
    op = build_operator()
    outage = outage_declare(
        actor="nmc",
        title="Fault",
        scope_items=[
            ScopeSpec(kind="element", element="X1"),
            ScopeSpec(kind="element", element="X2"),
        ],
    ).outage
    outage_restore(
        actor="nmc", outage=outage, item_ids=[outage.scope_items.get(element=op.elements["X1"]).pk]
    )

    def customers(**kwargs: object) -> int:
        notice = Notice.objects.create(outage=outage, kind="update", author=comms_user, **kwargs)
        return count_audience(notice).customers

    assert customers(audience=Audience.ALL_AFFECTED) == 4
    assert customers(audience=Audience.STILL_AFFECTED) == 2  # C3, C4 under X2
    assert customers(audience=Audience.RESTORED) == 2  # C1, C2
    assert customers(audience=Audience.SEGMENT, audience_segment="small_business") == 1
    assert customers(audience=Audience.LIST, audience_list=["C5", "C6"]) == 2
