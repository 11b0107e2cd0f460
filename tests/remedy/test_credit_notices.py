"""'Credit applied' notices: after billing confirms, each paid customer gets a message through
the communications pipeline carrying their own amount and explanation (the context provider),
landing in the outbox; the apology is a notice to everyone affected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from amends.comms import dispatch, templating
from amends.comms.audience import count_audience
from amends.comms.channels import registry
from amends.comms.models import Delivery, DeliveryStatus, Notice, NoticeKind, NoticeStatus
from amends.comms.preview import notice_preview
from amends.comms.services import notice_approve, notice_cancel, notice_create, notice_submit
from amends.comms.templating import sms_info
from amends.core.errors import AmendsError, Conflict
from amends.core.models import AuditEntry
from amends.core.money import format_cents
from amends.core.roles import Role
from amends.network.models import Customer
from amends.remedy.credit_links import credit_url
from amends.remedy.models import CreditNotice, Payout, PayoutStatus
from amends.remedy.services import credit_notices, payment_files, payments
from amends.remedy.services.confirmations import confirmations_import
from tests.conftest import write_csv
from tests.remedy.conftest import staff
from tests.remedy.payments_support import Setup, approved

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Path]:
    """Channels write to tmp_path/outbox (the registry caches channels: reset around)."""
    registry.reset()
    with override_settings(DATA_DIR=tmp_path, AMENDS_APPROVAL_THRESHOLD=1000):
        yield tmp_path / "outbox"
    registry.reset()


def pay_credits(
    setup: Setup, tmp_path: Path, *, reject: str = "", method: str = "bill_credit"
) -> None:
    """Export the payouts of ``method`` and confirm them paid (the ``reject`` customer
    rejected)."""
    batch = payments.batch_export(actor=setup.analyst, program=setup.program, method=method).batch
    rows = []
    for payout in Payout.objects.filter(batch=batch).select_related("customer"):
        rejected = payout.customer.external_id == reject
        rows.append(
            {
                "payout_id": payout.pk,
                "status": "rejected" if rejected else "paid",
                "billing_reference": "" if rejected else f"INV-{payout.pk}",
                "reason": "closed account" if rejected else "",
            }
        )
    path = write_csv(tmp_path / f"{batch.batch_id}.csv", rows)
    confirmations_import(actor=setup.analyst, program=setup.program, path=path)
    assert payment_files.file_name(batch).endswith(".csv")


def test_each_paid_customer_gets_their_own_amount_in_the_outbox(
    outbox: Path, tmp_path: Path
) -> None:
    setup = approved()
    pay_credits(setup, tmp_path, reject="C6")
    cleo = staff("cleo", Role.COMMUNICATIONS)
    (notice,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
    assert notice.kind == NoticeKind.CREDIT_APPLIED and notice.status == NoticeStatus.SENDING
    assert (notice.audience, notice.audience_provider) == ("provided", "remedy.credit")
    assert notice.audience_segment == ""
    assert recipients_of(notice) == ["C1", "C2", "C5"]  # C6 was rejected: not paid
    assert notice.recipients == 3
    assert CreditNotice.objects.get(notice=notice).calculation == setup.program.approved_calculation
    assert dispatch.run_notice(notice.pk) == "done"
    texts = sent_texts(outbox, notice)
    assert len(texts) == 3
    client = Client()  # the customer's own link: no login
    for external_id, amount in (("C1", "$2.39"), ("C2", "$21.73"), ("C5", "$1.72")):
        text = texts[setup.customer(external_id).pk]
        url = credit_url(setup.payout(external_id).pk)
        # The amount and a link fit in two GSM-7 segments; the formula is on the page.
        assert f"we've credited your account {amount} for the outage of " in text
        assert text.endswith(
            f", on your next bill.\nWhy this amount: {url}\nSorry. Amends Telecom\n"
        )
        body = text.split("\n\n", 1)[1]
        assert sms_info(body.strip()).encoding == "GSM-7" and sms_info(body.strip()).segments <= 2
        explanation = setup.entitlement(external_id).explanation
        assert "×" in explanation and "×" not in text
        page = client.get(url.removeprefix(settings.SITE_URL))
        assert page.status_code == 200
        shown = page.content.decode()
        assert f'<strong class="ref-big" id="credit-amount">{amount}</strong>' in shown
        for line in explanation.split("; "):  # each line of how it was worked out
            assert f"<li>{escape(line)}</li>" in shown
        assert "on your next bill" in shown and setup.outage.reference in shown
    told = Payout.objects.filter(credit_notice__notice=notice).count()
    assert told == 3


def recipients_of(notice: Notice) -> list[str]:
    """The customers the notice's outbox rows go to, by external id."""
    customers = Delivery.objects.filter(notice=notice).values("customer_id")
    return sorted(Customer.objects.filter(pk__in=customers).values_list("external_id", flat=True))


def sent_texts(outbox: Path, notice: Notice) -> dict[int, str]:
    """The SMS files the outbox wrote for ``notice``, by customer id."""
    texts = {}
    for path in (outbox / "sms").glob(f"n{notice.pk}-c*-sms.txt"):
        customer_id = int(path.name.split("-c")[1].split("-")[0])
        texts[customer_id] = path.read_text()
    return texts


def test_a_refunded_former_customer_is_told_it_was_refunded_with_interest(
    outbox: Path, tmp_path: Path
) -> None:
    setup = approved()  # C4 is a former customer with payment details: a refund
    pay_credits(setup, tmp_path)
    pay_credits(setup, tmp_path, method="refund")
    refund = setup.payout("C4")
    entitled = setup.entitlement("C4")
    assert refund.method == "refund" and refund.status == PayoutStatus.PAID
    assert refund.amount_cents > entitled.total_cents  # interest ran on to the payment date
    cleo = staff("cleo", Role.COMMUNICATIONS)
    (notice,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
    assert recipients_of(notice) == ["C1", "C2", "C4", "C5", "C6"]
    assert dispatch.run_notice(notice.pk) == "done"
    texts = sent_texts(outbox, notice)
    refunded = texts[setup.customer("C4").pk]
    amount = format_cents(refund.amount_cents)
    assert f"we've refunded you {amount} for the outage" in refunded
    assert ", paid to the details we hold." in refunded
    assert "next bill" not in refunded and "credited your account" not in refunded
    page = Client().get(credit_url(refund.pk).removeprefix(settings.SITE_URL)).content.decode()
    assert f"<li>With interest to the day it was paid: {amount}.</li>" in page
    assert "We have refunded you" in page and "payment details we hold for you" in page
    assert "next bill" not in page
    credited = texts[setup.customer("C1").pk]
    assert "we've credited your account $2.39" in credited and "refunded" not in credited


def test_the_preview_of_a_credit_notice_shows_each_customers_own_amount(tmp_path: Path) -> None:
    setup = approved()
    pay_credits(setup, tmp_path)
    cleo = staff("cleo", Role.COMMUNICATIONS)
    with override_settings(AMENDS_APPROVAL_THRESHOLD=1):  # held for approval: previewed first
        (notice,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
    assert notice.status == NoticeStatus.AWAITING_APPROVAL
    preview = notice_preview(notice)
    (sample,) = preview.samples
    payout = Payout.objects.get(credit_notice__notice=notice, customer=sample.customer)
    assert f"we've credited your account {format_cents(payout.amount_cents)}" in sample.text
    assert f"Why this amount: {credit_url(payout.pk)}" in sample.text
    assert notice.recipients == preview.counts.customers == 4  # the paid bill credits
    client = Client()
    client.force_login(setup.approver)
    page = client.get(reverse("comms:detail", args=[notice.pk])).content.decode()
    assert '<dd id="notice-recipients">4</dd>' in page
    assert '<dd id="preview-customers">4</dd>' in page
    told = f"Customers of {setup.program.reference} told of their confirmed credit or refund"
    assert told in page
    assert told in client.get(reverse("comms:list")).content.decode()


def test_the_notice_list_describes_any_number_of_credit_notices_in_bounded_queries(
    tmp_path: Path, django_assert_max_num_queries: Any
) -> None:
    """Each credit notice's audience names its program; the list asks for them all at once."""
    setup = approved()
    pay_credits(setup, tmp_path)
    cleo = staff("cleo", Role.COMMUNICATIONS)
    client = Client()
    client.force_login(cleo)

    def another_notice() -> None:  # held for approval, then cancelled: its customers go on
        with override_settings(AMENDS_APPROVAL_THRESHOLD=1):
            (notice,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
        notice_cancel(actor=cleo, notice=notice)

    another_notice()
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("comms:list"))
    for _ in range(5):
        another_notice()
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(reverse("comms:list")).content.decode()
    told = f"Customers of {setup.program.reference} told of their confirmed credit or refund"
    assert page.count(told) == 6


def test_a_credit_notice_composed_by_hand_still_renders(outbox: Path) -> None:
    setup = approved()
    cleo = staff("cleo", Role.COMMUNICATIONS)
    notice = notice_create(
        actor=cleo,
        kind=NoticeKind.CREDIT_APPLIED,
        audience="list",
        outage=setup.outage,
        customers=["C1"],
    )
    context = credit_notices.credit_context(notice, [setup.customer("C1").pk])
    assert context[setup.customer("C1").pk]["credit"] == {
        "amount": 0,
        "explanation": "",
        "method": "bill_credit",
        "program_reference": "",
        "url": "",  # no payout: no page to link
    }
    notice = notice_submit(actor=cleo, notice=notice)
    assert dispatch.run_notice(notice.pk) == "done"
    (text,) = sent_texts(outbox, notice).values()
    assert "we've credited your account $0.00" in text  # what was composed, not a failure


@pytest.mark.parametrize("language", ["en", "zh", "vi"])
@pytest.mark.parametrize("channel", ["email", "sms", "push", "voice"])
def test_the_shipped_wording_fits_a_bill_credit_and_a_refund(language: str, channel: str) -> None:
    """The refund wording never promises a bill; the bill credit's never speaks of a refund."""
    next_bill = {"en": "next bill", "zh": "下一期账单", "vi": "hóa đơn"}[language]
    refunded = {"en": "refunded you", "zh": "退款", "vi": "hoàn trả"}[language]
    messages = {}
    for method in ("bill_credit", "refund"):
        context = templating.sample_context(language, kind=NoticeKind.CREDIT_APPLIED)
        context["credit"]["method"] = method
        rendered = templating.render(NoticeKind.CREDIT_APPLIED, channel, language, context)
        messages[method] = rendered.subject + rendered.text + rendered.html
    assert next_bill in messages["bill_credit"] and refunded not in messages["bill_credit"]
    assert refunded in messages["refund"] and next_bill not in messages["refund"]


def test_customers_already_told_are_not_told_again(outbox: Path, tmp_path: Path) -> None:
    setup = approved()
    pay_credits(setup, tmp_path)
    cleo = staff("cleo", Role.COMMUNICATIONS)
    credit_notices.credit_notices_send(actor=cleo, program=setup.program)
    assert credit_notices.untold_customers(setup.program) == 0
    with pytest.raises(Conflict, match="has been told"):
        credit_notices.credit_notices_send(actor=cleo, program=setup.program)
    assert Notice.objects.count() == 1


def test_customers_confirmed_later_get_a_notice_of_their_own(outbox: Path, tmp_path: Path) -> None:
    setup = approved()
    pay_credits(setup, tmp_path)
    cleo = staff("cleo", Role.COMMUNICATIONS)
    (first,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
    pay_credits(setup, tmp_path, method="refund")  # C4's refund confirmed afterwards
    assert credit_notices.untold_customers(setup.program) == 1
    (later,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
    assert recipients_of(first) == ["C1", "C2", "C5", "C6"]
    assert recipients_of(later) == ["C4"] and later.recipients == 1
    assert count_audience(first).customers == 4  # each notice keeps its own audience
    with pytest.raises(Conflict, match="has been told"):
        credit_notices.credit_notices_send(actor=cleo, program=setup.program)


def test_customers_a_cancelled_notice_never_reached_are_told_again(tmp_path: Path) -> None:
    setup = approved()
    pay_credits(setup, tmp_path)
    cleo = staff("cleo", Role.COMMUNICATIONS)
    with override_settings(AMENDS_APPROVAL_THRESHOLD=1):
        (cancelled,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
        notice_cancel(actor=cleo, notice=cancelled)
        assert credit_notices.untold_customers(setup.program) == 4
        (again,) = credit_notices.credit_notices_send(
            actor=cleo, program=setup.program, message="Now with the right words."
        )
    assert again.recipients == 4 and count_audience(cancelled).customers == 0
    assert Payout.objects.filter(credit_notice__notice=again).count() == 4
    notice_approve(actor=setup.approver, notice=again)
    # Released; a worker reached one customer (one sent message each) before the cancel, the
    # others' messages still waited (quiet hours, say) and were cancelled with it.
    reached = Delivery.objects.filter(notice=again).order_by("pk")[0]
    Delivery.objects.filter(pk=reached.pk).update(status=DeliveryStatus.SENT)
    notice_cancel(actor=cleo, notice=again)
    assert credit_notices.untold_customers(setup.program) == 3
    (third,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
    assert third.recipients == 3
    assert reached.customer_id not in set(
        Payout.objects.filter(credit_notice__notice=third).values_list("customer_id", flat=True)
    )
    entry = AuditEntry.objects.filter(action="remedy.credit_notices_send").latest("pk")
    assert entry.after["retold_from_cancelled_notices"] == {str(again.pk): 3}
    assert third.status == NoticeStatus.SENDING  # small: released without approval
    Delivery.objects.filter(notice=third).update(status=DeliveryStatus.DELIVERED)
    with pytest.raises(Conflict, match="has been told"):
        credit_notices.credit_notices_send(actor=cleo, program=setup.program)


def test_notices_need_a_communications_role(tmp_path: Path) -> None:
    setup = approved()
    pay_credits(setup, tmp_path)
    with pytest.raises(AmendsError, match="no role that may write notices"):
        credit_notices.credit_notices_send(actor=setup.analyst, program=setup.program)
    assert not Notice.objects.exists()
    assert not Payout.objects.filter(credit_notice__isnull=False).exists()
    assert Payout.objects.filter(status=PayoutStatus.PAID).count() == 4


def test_other_notices_get_nothing_from_the_provider() -> None:
    setup = approved()
    notice = Notice(kind=NoticeKind.APOLOGY, audience="all_affected", outage=setup.outage)
    assert credit_notices.credit_context(notice, [setup.customer("C1").pk]) == {}


def test_the_apology_goes_to_everyone_affected(outbox: Path) -> None:
    setup = approved()
    cleo = staff("cleo", Role.COMMUNICATIONS)
    (notice,) = credit_notices.apology_send(
        actor=cleo, program=setup.program, message="We've added a second fibre route."
    )
    assert notice.kind == NoticeKind.APOLOGY and notice.recipients == 6
    assert dispatch.run_notice(notice.pk) == "done"
    sent = list((outbox / "sms").glob(f"n{notice.pk}-c*-sms.txt"))
    assert len(sent) == 6
    assert "We've added a second fibre route." in sent[0].read_text()
