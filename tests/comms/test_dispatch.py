"""Dispatch end to end: outbox rows → claimed with a lease → rendered → provider → recorded.

Real providers on 127.0.0.1: the outbox writes real files, the HTTP SMS gateway is a local
server that honours idempotency keys and can fail on purpose.
"""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from amends.comms import dispatch, outbox, ratelimit
from amends.comms.models import Delivery, Notice, NoticeStatus
from amends.comms.services import notice_create, notice_submit
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_restore
from tests.comms.servers import HttpServer, Request
from tests.factories import build_operator, give_contacts

pytestmark = pytest.mark.django_db


@pytest.fixture
def outage() -> Outage:
    build_operator()
    give_contacts()
    return outage_declare(
        actor="nmc",
        title="Exchange fault",
        cause_public="A fibre cut.",
        scope_items=[ScopeSpec(kind="state", state="NSW")],
    ).outage


def send(cleo: User, outage: Outage, kind: str = "acknowledge", **kwargs: Any) -> Notice:
    notice = notice_create(actor=cleo, kind=kind, audience="all_affected", outage=outage, **kwargs)
    notice = notice_submit(actor=cleo, notice=notice)
    assert dispatch.run_notice(notice.pk) in ("done", "later")
    notice.refresh_from_db()
    return notice


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_outbox_gets_one_real_email_per_customer(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    with override_settings(DATA_DIR=tmp_path):
        notice = send(cleo, outage)
    assert notice.status == NoticeStatus.SENT
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    files = sorted((tmp_path / "outbox" / "email").glob("*.eml"))
    assert len(files) == 4
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "A fibre cut" in body and "000" in body
    assert message["Message-ID"].startswith(f"<n{notice.pk}-c")


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_priority_assistance_customers_go_first(cleo: User, outage: Outage, tmp_path: Path) -> None:
    with override_settings(DATA_DIR=tmp_path, AMENDS_DISPATCH_BATCH=1):
        send(cleo, outage)
    order = list(
        Delivery.objects.order_by("sent_at", "id").values_list("customer__external_id", flat=True)
    )
    assert order[0] == "C3"  # priority assistance
    assert order[1] == "C2"  # small business


def sms_gateway(is_down: Callable[[], bool]) -> tuple[HttpServer, list[str]]:
    """A gateway answering 500 while ``is_down()``, then accepting, de-duplicating keys."""
    delivered: list[str] = []
    seen: set[str] = set()

    def respond(request: Request) -> tuple[int, Any]:
        if is_down():
            return 500, {"error": "try again"}
        body = request.json()
        if body["idempotency_key"] not in seen:
            seen.add(body["idempotency_key"])
            delivered.append(body["to"])
        return 200, {"id": body["idempotency_key"]}

    return HttpServer(respond).start(), delivered


@override_settings(
    AMENDS_APPROVAL_THRESHOLD=100, AMENDS_RETRY_BASE_SECONDS=0, AMENDS_RETRY_MAX_SECONDS=0
)
def test_temporary_failures_are_retried_and_nothing_is_sent_twice(
    cleo: User, outage: Outage
) -> None:
    first_three = iter([True, True, True])
    gateway, delivered = sms_gateway(lambda: next(first_three, False))
    Customer.objects.update(channel_order="sms;email")
    outage_restore(actor="nmc", outage=outage)  # mobiles are back: SMS is not held
    try:
        with override_settings(AMENDS_CHANNELS="sms=http", AMENDS_SMS_HTTP_URL=gateway.url):
            notice = notice_submit(
                actor=cleo,
                notice=notice_create(
                    actor=cleo, kind="restored", audience="restored", outage=outage
                ),
            )
            for _ in range(6):
                if dispatch.run_notice(notice.pk) == "done":
                    break
    finally:
        gateway.stop()
    assert sorted(delivered) == sorted(
        Customer.objects.filter(external_id__in=["C1", "C2", "C3", "C4"]).values_list(
            "mobile", flat=True
        )
    )
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert max(Delivery.objects.values_list("attempts", flat=True)) >= 2


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_permanent_email_failure_falls_back_to_sms(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    def result(message: dict[str, str], n: int) -> dict[str, Any]:
        if message["To"].startswith("c1@"):  # refused as inactive, in Postmark's own words
            return {
                "ErrorCode": 406,
                "Message": "You tried to send to a recipient that has "
                f"been marked as inactive.\nFound inactive addresses: {message['To']}.\n"
                "Inactive recipients are ones that have generated a hard bounce or a spam "
                "complaint.",
            }
        return {"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{n}", "To": message["To"]}

    def postmark_batch(request: Request) -> tuple[int, Any]:
        """Postmark's /email (one message) and /email/batch (a list) endpoints."""
        body = request.json()
        if request.path == "/email/batch":
            return 200, [result(m, i) for i, m in enumerate(body)]
        answer = result(body, 0)
        return (422 if answer["ErrorCode"] else 200), answer

    postmark = HttpServer(postmark_batch).start()
    outage_restore(actor="nmc", outage=outage)
    try:
        with override_settings(
            AMENDS_CHANNELS="email=postmark",
            DATA_DIR=tmp_path,
            ANYMAIL={"POSTMARK_SERVER_TOKEN": "x", "POSTMARK_API_URL": postmark.url},
        ):
            notice = notice_submit(
                actor=cleo,
                notice=notice_create(
                    actor=cleo, kind="restored", audience="restored", outage=outage
                ),
            )
            dispatch.run_notice(notice.pk)
    finally:
        postmark.stop()
    c1 = Delivery.objects.filter(customer__external_id="C1").order_by("id")
    assert [(d.channel, d.status) for d in c1] == [("email", "failed"), ("sms", "sent")]
    assert c1[1].fallback_from == "email"


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_sms_held_during_mobile_outage_is_superseded_once_the_customer_is_back(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    """Saying it went down after it is back would be false: the held SMS is never sent (a held
    message of a customer still out in another service goes when the mobile is back: see
    test_told_once_and_in_time)."""
    Customer.objects.filter(external_id="C4").update(email="")  # C4 only has SMS
    with override_settings(DATA_DIR=tmp_path):
        notice = send(cleo, outage)
        held = Delivery.objects.get(customer__external_id="C4")
        assert held.status == "held" and notice.status == NoticeStatus.SENDING
        outage_restore(actor="nmc", outage=outage)
        assert dispatch.run_notice(notice.pk) == "done"
    held.refresh_from_db()
    assert held.status == "superseded" and held.channel == "sms"
    assert not (tmp_path / "outbox" / "sms").exists()


@override_settings(AMENDS_APPROVAL_THRESHOLD=100, AMENDS_DELIVERY_LEASE_SECONDS=1)
def test_a_crashed_workers_batch_is_taken_over_after_its_lease(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    notice = notice_submit(
        actor=cleo,
        notice=notice_create(
            actor=cleo, kind="acknowledge", audience="all_affected", outage=outage
        ),
    )
    claimed = outbox.claim(notice.pk, limit=2, now=timezone.now())
    assert len(claimed.ids) == 2  # ... and the worker dies here, before sending
    others = outbox.claim(notice.pk, limit=10, now=timezone.now())
    assert len(others.ids) == 2 and not set(others.ids) & set(claimed.ids)
    assert outbox.sweep(now=timezone.now() + timedelta(seconds=2)) == 4
    with override_settings(DATA_DIR=tmp_path):
        assert dispatch.run_notice(notice.pk) == "done"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_quiet_hours_defer_non_urgent_notices(cleo: User, outage: Outage, tmp_path: Path) -> None:
    now = timezone.localtime(timezone.now())
    start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    Customer.objects.update(
        quiet_hours_start=start, quiet_hours_end=end, time_zone="Australia/Sydney"
    )
    with override_settings(DATA_DIR=tmp_path, TIME_ZONE="Australia/Sydney"):
        update = send(cleo, outage, kind="update", message="Crews are on site.")
        acknowledge = send(cleo, outage, kind="acknowledge")
    assert set(Delivery.objects.filter(notice=update).values_list("status", flat=True)) == {
        "queued"
    }
    later = Delivery.objects.filter(notice=update).first()
    assert later is not None and later.next_attempt_at > timezone.now() + timedelta(minutes=50)
    assert set(Delivery.objects.filter(notice=acknowledge).values_list("status", flat=True)) == {
        "sent"
    }


@pytest.mark.slow
@override_settings(
    AMENDS_APPROVAL_THRESHOLD=100,
    AMENDS_RETRY_BASE_SECONDS=2,
    AMENDS_RETRY_MAX_SECONDS=8,
    AMENDS_MAX_ATTEMPTS=20,
)
def test_provider_down_for_thirty_seconds_then_everything_arrives_once(
    cleo: User, outage: Outage
) -> None:
    down_until = time.monotonic() + 30
    gateway, delivered = sms_gateway(lambda: time.monotonic() < down_until)
    Customer.objects.update(channel_order="sms")
    outage_restore(actor="nmc", outage=outage)
    try:
        with override_settings(AMENDS_CHANNELS="sms=http", AMENDS_SMS_HTTP_URL=gateway.url):
            notice = notice_submit(
                actor=cleo,
                notice=notice_create(
                    actor=cleo, kind="restored", audience="restored", outage=outage
                ),
            )
            deadline = time.monotonic() + 120
            while dispatch.run_notice(notice.pk) != "done" and time.monotonic() < deadline:
                time.sleep(0.5)
    finally:
        gateway.stop()
    assert len(gateway.requests) > 4  # it really was refused for a while
    assert sorted(delivered) == sorted(
        Delivery.objects.filter(notice=notice).values_list("address", flat=True)
    )
    assert len(delivered) == 4 and len(set(delivered)) == 4
    assert set(Delivery.objects.filter(notice=notice).values_list("status", flat=True)) == {"sent"}


@override_settings(AMENDS_APPROVAL_THRESHOLD=100, AMENDS_DELIVERY_LEASE_SECONDS=1)
def test_a_worker_that_lost_its_claim_sends_and_records_nothing(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    notice = notice_submit(
        actor=cleo,
        notice=notice_create(
            actor=cleo, kind="acknowledge", audience="all_affected", outage=outage
        ),
    )
    stalled = outbox.claim(notice.pk, limit=10, now=timezone.now())
    # It stalls past its lease; the sweeper gives its rows to another worker.
    assert outbox.sweep(now=timezone.now() + timedelta(seconds=2)) == len(stalled.ids) == 4
    taker = outbox.claim(notice.pk, limit=10, now=timezone.now())
    assert set(taker.ids) == set(stalled.ids)
    with override_settings(DATA_DIR=tmp_path):
        late = dispatch.process(stalled)  # the stalled worker wakes up
        assert late == dispatch.BatchOutcome() and not (tmp_path / "outbox").exists()
        assert dispatch.process(taker).sent == 4
    assert len(list((tmp_path / "outbox" / "email").glob("*.eml"))) == 4
    sent = Delivery.objects.filter(notice=notice)
    assert set(sent.values_list("status", flat=True)) == {"sent"}
    assert set(sent.values_list("attempts", flat=True)) == {2}  # the taker's claim counted


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(AMENDS_APPROVAL_THRESHOLD=100, AMENDS_DELIVERY_LEASE_SECONDS=1)
def test_a_provider_slower_than_the_lease_does_not_lose_the_batch(
    cleo: User, outage: Outage
) -> None:
    """The worker renews its lease while the gateway takes 2.5 leases to answer: the sweeper,
    run meanwhile, finds nothing expired, and nothing is claimed or posted twice."""
    swept: list[int] = []

    def slow_gateway(request: Request) -> tuple[int, Any]:
        time.sleep(2.5)
        try:
            swept.append(outbox.sweep())  # what another worker's sweeper would do now
        finally:
            connection.close()  # this server thread's own connection
        messages = request.json()["messages"]
        return 200, {
            "results": [{"id": m["idempotency_key"], "status": "accepted"} for m in messages]
        }

    gateway = HttpServer(slow_gateway).start()
    Customer.objects.update(channel_order="sms")
    outage_restore(actor="nmc", outage=outage)  # mobiles are back: SMS is not held
    try:
        with override_settings(
            AMENDS_CHANNELS="sms=http", AMENDS_SMS_HTTP_URL=gateway.url, AMENDS_SMS_HTTP_BATCH=True
        ):
            notice = notice_submit(
                actor=cleo,
                notice=notice_create(
                    actor=cleo, kind="restored", audience="restored", outage=outage
                ),
            )
            assert dispatch.run_notice(notice.pk) == "done"
    finally:
        gateway.stop()
    assert swept == [0]  # one request, and the batch was still ours while it was out
    assert set(Delivery.objects.filter(notice=notice).values_list("status", "attempts")) == {
        ("sent", 1)
    }


def test_the_rate_limit_holds_and_each_provider_has_its_own() -> None:
    """20 messages a second with a second's burst: 50 messages cannot go in less than 1.5 s,
    however the batches come; meanwhile another provider's bucket is full."""
    started = time.monotonic()
    waited = [ratelimit.acquire("gateway", 10, rate=20) for _ in range(5)]
    assert time.monotonic() - started >= 1.5
    assert waited[:2] == [0.0, 0.0]  # the burst
    assert ratelimit.acquire("other", 10, rate=20) == 0.0
