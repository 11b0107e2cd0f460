"""kill -9 a worker in the middle of a 20,000-message send; a second worker finishes it.

Against an HTTP provider that honours idempotency keys every customer gets exactly one
message. Against an SMTP server (no idempotency in the protocol) none is lost, and a repeat can
only be a message that was in flight when the worker died: at most one batch, each carrying the
Message-ID it had the first time.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings

from amends.comms.models import Delivery, DeliveryStatus, Notice
from amends.comms.services import notice_create, notice_submit
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.models import Customer, Product
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from tests.comms.servers import HttpServer, Request, SmtpServer
from tests.conftest import ROOT, amends_env, child_database_url

MESSAGES = 20_000
BATCH = 500
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _customers(count: int, order: str) -> None:
    """``count`` customers with a unique mobile and email, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s) "
            "INSERT INTO network_customer (external_id, name, preferred_name, segment, language, "
            "email, mobile, phone, push_token, channel_order, consent_email, consent_sms, "
            "consent_push, consent_voice, time_zone, priority_assistance, accessibility_needs, "
            "is_former, payment_reference) SELECT 'K' || CAST(n AS TEXT), 'Customer', 'Sam', "
            "'consumer', 'en', 'k' || CAST(n AS TEXT) || '@example.com', "
            "'+6140' || CAST(1000000 + n AS TEXT), '', '', %s, %s, %s, %s, "
            "%s, 'Australia/Sydney', %s, '', %s, '' FROM seq",
            [count, order, True, True, True, True, False, False],
        )


def _one_service_each(product: Product) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO network_service (external_id, customer_id, product_id, "
            "monthly_charge_cents, address, postcode, locality, state, remoteness, h3_cell, "
            "sla_tier, is_active) SELECT 'SV' || external_id, id, %s, 8900, '', '2999', "
            "'Bulk', 'NSW', 'major_city', '', 'standard', %s FROM network_customer",
            [product.pk, True],
        )


@pytest.fixture
def big_notice() -> Callable[[str], Notice]:
    """20,000 affected customers (broadband down, mobiles fine) preferring the channels in
    ``order``, and a submitted notice to them."""

    def make(order: str) -> Notice:
        product = Product.objects.create(
            code="NBN", name="Home Internet", kind="fixed_broadband", monthly_charge_cents=8900
        )
        _customers(MESSAGES, order)
        _one_service_each(product)
        assert Customer.objects.count() == MESSAGES
        outage = outage_declare(
            actor="nmc",
            title="Broadband outage",
            scope_items=[ScopeSpec(kind="postcode", postcode="2999")],
        ).outage
        cleo: User = staff_user_set(
            actor="t", username="cleo", role=Role.COMMUNICATIONS, password="pw-123456-x"
        )
        with override_settings(AMENDS_APPROVAL_THRESHOLD=MESSAGES):
            notice = notice_create(
                actor=cleo, kind="acknowledge", audience="all_affected", outage=outage
            )
            return notice_submit(actor=cleo, notice=notice)

    return make


def _worker(**env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "amends", "worker", "--interval", "0.2", "--sweep-interval", "1"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=amends_env(
            DATABASE_URL=child_database_url(),
            AMENDS_DELIVERY_LEASE_SECONDS="3",
            AMENDS_CHANNEL_RATES="sms=1000000,email=1000000",
            LOG_LEVEL="WARNING",
            **env,
        ),
    )


def _wait(condition: Callable[[], bool], *, timeout: float, step: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(step)


def _kill_midway_then_finish(
    notice: Notice, progress: Callable[[], int], env: dict[str, str]
) -> None:
    first = _worker(**env)
    try:
        _wait(lambda: progress() >= MESSAGES // 4, timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert progress() < MESSAGES, "the kill came too late to test anything"
        second = _worker(**env)
        try:
            _wait(
                lambda: (
                    not Delivery.objects.filter(
                        notice=notice, status__in=(DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
                    ).exists()
                ),
                timeout=240,
                step=0.5,
            )
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()


@pytest.fixture
def idempotent_gateway() -> Iterator[tuple[HttpServer, Counter[str]]]:
    """A batch SMS gateway: stores each idempotency key once, counts every post of it."""
    posts: Counter[str] = Counter()
    lock = threading.Lock()

    def respond(request: Request) -> tuple[int, Any]:
        messages = request.json()["messages"]
        time.sleep(0.05)  # a provider's round trip: the kill lands mid-send
        with lock:
            posts.update(m["idempotency_key"] for m in messages)
        return 200, {
            "results": [{"id": m["idempotency_key"], "status": "accepted"} for m in messages]
        }

    server = HttpServer(respond).start()
    yield server, posts
    server.stop()


def test_http_provider_gets_every_message_exactly_once(
    big_notice: Callable[[str], Notice], idempotent_gateway: tuple[HttpServer, Counter[str]]
) -> None:
    gateway, posts = idempotent_gateway
    notice = big_notice("sms;email")
    _kill_midway_then_finish(
        notice,
        lambda: len(posts),
        {
            "AMENDS_CHANNELS": "sms=http",
            "AMENDS_SMS_HTTP_URL": gateway.url,
            "AMENDS_SMS_HTTP_BATCH": "true",
        },
    )
    assert len(posts) == MESSAGES  # every customer, once: none lost
    assert Delivery.objects.filter(notice=notice, status=DeliveryStatus.SENT).count() == MESSAGES
    repeated = sum(count - 1 for count in posts.values())
    assert repeated <= BATCH  # only the batch in flight was posted again, and dropped


def test_smtp_loses_nothing_and_repeats_at_most_one_batch(
    big_notice: Callable[[str], Notice],
) -> None:
    server = SmtpServer()
    controller = server.controller()
    controller.start()
    try:
        notice = big_notice("email;sms")
        _kill_midway_then_finish(
            notice,
            lambda: len(server.received),
            {
                "AMENDS_CHANNELS": "email=smtp",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(server.port),
            },
        )
    finally:
        controller.stop()
    ids = Counter(str(message["Message-ID"]) for _, message in server.received)
    assert len(ids) == MESSAGES  # none lost
    repeats = sum(count - 1 for count in ids.values())
    assert repeats <= BATCH  # only what was in flight at the kill, same Message-ID
    assert Delivery.objects.filter(notice=notice, status=DeliveryStatus.SENT).count() == MESSAGES
