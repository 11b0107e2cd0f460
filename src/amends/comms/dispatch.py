"""Sending: claim a batch of due deliveries with a lease, render, hand to the provider, record.

At least once, never twice (ARCHITECTURE rule 1):

* a worker *claims* a batch in its own short transaction (``status = sending`` with a lease
  and a token, see ``outbox``), so the claim is visible to every other worker before anything
  is sent;
* while it works on the batch its lease is renewed (``outbox.LeaseKeeper``), and before each
  provider call it checks which rows it still holds and sends only those;
* it sends *outside* any transaction, each message carrying its idempotency key;
* it records each result with a conditional update (only rows it still holds);
* a worker that dies leaves rows in ``sending`` whose lease expires; the sweeper puts them back
  in the queue and the next worker sends them again with the same keys, which a provider that
  honours idempotency keys drops (an SMTP server cannot: the repeat carries the same
  Message-ID so that the receiving side can). Only what was in flight at the death (one
  provider call's messages) can arrive twice.

Temporary failures are retried with exponential backoff and jitter up to ``MAX_ATTEMPTS``, then
the delivery is dead; a permanent failure (or death) falls back to the customer's next channel.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from amends.comms import audience as audiences
from amends.comms import outbox
from amends.comms.channels.base import Channel, ChannelError, OutboundMessage, SendResult
from amends.comms.channels.registry import channel_for
from amends.comms.content import build_messages
from amends.comms.models import (
    OPEN_DELIVERY,
    STALE_ON_RESTORE,
    Audience,
    Delivery,
    DeliveryStatus,
    Notice,
    NoticeStatus,
    Subscriber,
)
from amends.comms.ratelimit import acquire
from amends.core import audit
from amends.outages.models import OPEN_STATUSES, Outage

log = logging.getLogger(__name__)


def _db(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


RESTORED_REASON = "the customer's services are back: out of date"


def supersede_restored(outage_id: int) -> int:
    """Supersede the messages of the outage's acknowledge, update and ETR-changed notices
    that no provider has yet (queued or held) to customers who are no longer out in it: "it
    went down" or "new fix time" after everything is back is false. Returns how many.

    One set-based UPDATE per such notice still sending (a handful per outage), each audited
    with its count. Runs before held messages are released, so a restored customer's held
    SMS is superseded rather than released; ``content.build_messages`` checks again for rows
    claimed just before the restoration.
    """
    notices = Notice.objects.filter(
        outage_id=outage_id, kind__in=STALE_ON_RESTORE, status=NoticeStatus.SENDING
    )
    total = 0
    for notice in notices.select_related("outage"):
        with transaction.atomic(), connection.cursor() as cursor:
            audiences.prepare_for_audience(notice)  # a national outage: hash joins
            cursor.execute(
                "UPDATE comms_delivery SET status = %s, error = %s, finished_at = %s "
                "WHERE notice_id = %s AND status IN (%s, %s) AND customer_id IN "
                "(SELECT customer_id FROM outages_impact WHERE outage_id = %s) AND NOT EXISTS "
                "(SELECT 1 FROM outages_impact o WHERE o.outage_id = %s "
                "AND o.customer_id = comms_delivery.customer_id AND o.window_end IS NULL)",
                [
                    DeliveryStatus.SUPERSEDED,
                    RESTORED_REASON,
                    _db(timezone.now()),
                    notice.pk,
                    DeliveryStatus.QUEUED,
                    DeliveryStatus.HELD,
                    outage_id,
                    outage_id,
                ],
            )
            superseded = int(cursor.rowcount)
            if superseded:
                _audit_superseded(notice.pk, superseded)
        total += superseded
    return total


def _audit_superseded(notice_id: int, count: int) -> None:
    audit.record(
        "dispatcher",
        "comms.deliveries_superseded",
        ("comms.notice", str(notice_id)),
        after={"superseded": count, "why": RESTORED_REASON},
    )


def release_held(notice: Notice) -> int:
    """Queue held messages of customers whose mobile service is back."""
    down, params = audiences.mobile_down_sql(notice)
    with transaction.atomic(), connection.cursor() as cursor:
        audiences.prepare_for_audience(notice)
        # NOT EXISTS (an anti-join), not NOT IN: over a national mobile outage the NOT IN
        # set would not fit in memory and PostgreSQL would rescan it for every row.
        cursor.execute(
            "UPDATE comms_delivery SET status = %s, next_attempt_at = %s "
            "WHERE notice_id = %s AND status = %s AND NOT EXISTS (SELECT 1 FROM "
            f"({down}) md WHERE md.customer_id = comms_delivery.customer_id)",
            [DeliveryStatus.QUEUED, _db(timezone.now()), notice.pk, DeliveryStatus.HELD, *params],
        )
        return int(cursor.rowcount)


# Held on a resolved outage, these kinds are out of date: "it's down", "new fix time".
STALE_ERROR = "Not sent: the outage was resolved before the customer's mobile was back."


def release_outage_held(outage_id: int) -> int:
    """Let nothing of a resolved outage wait "held until restoration": a held message whose
    news is out of date (``STALE_ON_RESTORE``) is superseded with ``STALE_ERROR``, any other
    is queued now (its notice's dispatcher or the sweeper sends it). Only for outages that
    are resolved or closed; an open outage's held messages wait for ``release_held``."""
    if Outage.objects.filter(pk=outage_id, status__in=OPEN_STATUSES).exists():
        return 0
    held = Delivery.objects.filter(notice__outage_id=outage_id, status=DeliveryStatus.HELD)
    now = timezone.now()
    superseded = held.filter(notice__kind__in=STALE_ON_RESTORE).update(
        status=DeliveryStatus.SUPERSEDED, error=STALE_ERROR, finished_at=now
    )
    queued = held.update(status=DeliveryStatus.QUEUED, next_attempt_at=now)
    if superseded or queued:
        log.info(
            "outage %s resolved: %d held messages queued, %d out of date superseded",
            outage_id,
            queued,
            superseded,
        )
    return superseded + queued


def backoff(attempt: int) -> timedelta:
    """Exponential with full jitter: up to base × 2^(attempt-1), capped."""
    base, cap = settings.AMENDS_RETRY_BASE_SECONDS, settings.AMENDS_RETRY_MAX_SECONDS
    return timedelta(seconds=random.uniform(base / 2, min(cap, base * 2 ** (attempt - 1))))  # noqa: S311


@dataclass
class BatchOutcome:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0


def process(claimed: outbox.Claim) -> BatchOutcome:
    """Send a claimed batch; every row ends sent, queued again, failed or dead (or, if the
    claim lost it meanwhile, with whoever holds it now)."""
    outcome = BatchOutcome()
    prepared = build_messages(_with_recipients(claimed.deliveries))
    outbox.requeue(
        claimed.token,
        [
            outbox.Retry(delivery.pk, until, "", delivery.attempts - 1)  # not a try
            for delivery, until in prepared.deferred
        ],
    )
    outcome.deferred = len(prepared.deferred)
    _supersede_claimed(claimed.token, prepared.superseded)
    if prepared.unrenderable:  # no template for that channel: retrying cannot help
        _record(
            "render",
            claimed.token,
            [d for d, _ in prepared.unrenderable],
            [
                SendResult(d.pk, ok=False, error=error, permanent=True)
                for d, error in prepared.unrenderable
            ],
            outcome,
        )
    by_channel: dict[str, list[tuple[Delivery, OutboundMessage]]] = {}
    for delivery, message in prepared.ready:
        by_channel.setdefault(delivery.channel, []).append((delivery, message))
    for capability, pairs in by_channel.items():
        _send(capability, claimed, pairs, outcome)
    return outcome


def _supersede_claimed(token: int, deliveries: list[Delivery]) -> None:
    """Rows claimed just before their customer was restored: superseded, never sent."""
    superseded = outbox.supersede(token, [d.pk for d in deliveries], why=RESTORED_REASON)
    if not superseded:
        return
    by_notice: dict[int, int] = {}
    for delivery in deliveries:
        if delivery.pk in superseded:
            by_notice[delivery.notice_id] = by_notice.get(delivery.notice_id, 0) + 1
    for notice_id, count in by_notice.items():
        _audit_superseded(notice_id, count)


def _with_recipients(deliveries: list[Delivery]) -> list[Delivery]:
    """The rows with their notice (and outage) as they are now, and status subscribers."""
    notices = Notice.objects.select_related("outage").in_bulk({d.notice_id for d in deliveries})
    subscribers = Subscriber.objects.in_bulk({d.subscriber_id for d in deliveries} - {None})
    for delivery in deliveries:
        delivery.notice = notices[delivery.notice_id]
        if delivery.subscriber_id is not None:
            delivery.subscriber = subscribers[delivery.subscriber_id]
    return deliveries


def _send(
    capability: str,
    claimed: outbox.Claim,
    pairs: list[tuple[Delivery, OutboundMessage]],
    outcome: BatchOutcome,
) -> None:
    channel = channel_for(capability)
    for start in range(0, len(pairs), channel.batch_size):
        _call(channel, claimed, pairs[start : start + channel.batch_size], outcome)


def _call(
    channel: Channel,
    claimed: outbox.Claim,
    chunk: list[tuple[Delivery, OutboundMessage]],
    outcome: BatchOutcome,
) -> None:
    # Only what the claim still holds (a stalled worker's rows may be another's now).
    held = outbox.confirm(claimed, [d.pk for d, _ in chunk], now=timezone.now())
    if len(held) < len(chunk):
        lost = len(chunk) - len(held)
        log.warning("claim %s lost %d rows to another worker", claimed.token, lost)
        chunk = [(d, m) for d, m in chunk if d.pk in held]
    if not chunk:
        return
    acquire(channel.name, len(chunk), rate=channel.rate_per_second)
    try:
        results = channel.send_batch([message for _, message in chunk])
    except ChannelError as exc:
        results = [
            SendResult(d.pk, ok=False, error=exc.message, permanent=exc.permanent) for d, _ in chunk
        ]
    _record(channel.name, claimed.token, [d for d, _ in chunk], results, outcome)


def _record(
    provider: str,
    token: int,
    chunk: list[Delivery],
    results: list[SendResult],
    outcome: BatchOutcome,
) -> None:
    now = timezone.now()
    by_id = {result.delivery_id: result for result in results}
    sent: list[tuple[int, str]] = []
    retries: list[outbox.Retry] = []
    finals: list[outbox.Final] = []
    failed_for_good: list[Delivery] = []
    for delivery in chunk:
        result = by_id.get(delivery.pk) or SendResult(
            delivery.pk, ok=False, error="no result from the provider"
        )
        if result.ok:
            sent.append((delivery.pk, result.provider_id))
        elif not result.permanent and delivery.attempts < settings.AMENDS_MAX_ATTEMPTS:
            at = now + backoff(delivery.attempts)
            retries.append(outbox.Retry(delivery.pk, at, result.error, delivery.attempts))
        else:
            status = DeliveryStatus.FAILED if result.permanent else DeliveryStatus.DEAD
            finals.append(outbox.Final(delivery.pk, status, result.error))
            failed_for_good.append(delivery)
    with transaction.atomic():
        outbox.mark_sent(token, sent, provider=provider, now=now)
        outbox.requeue(token, retries)
        outbox.finish(token, finals, provider=provider, now=now)
    outcome.sent += len(sent)
    outcome.retried += len(retries)
    outcome.failed += len(finals)
    _fall_back_from(failed_for_good)


def _fall_back_from(failed_for_good: list[Delivery]) -> None:
    # A status subscriber has one channel only: nothing to fall back to.
    customers: dict[int, list[int]] = {}
    for delivery in failed_for_good:
        if delivery.customer_id is not None:
            customers.setdefault(delivery.notice_id, []).append(delivery.customer_id)
    for notice_id, customer_ids in customers.items():
        notice = Notice.objects.get(pk=notice_id)
        fall_back(notice, customer_ids, failed_channel=failed_for_good[0].channel)


def fall_back(notice: Notice, customer_ids: list[int], *, failed_channel: str) -> int:
    """Try each customer's next channel (one they have not been sent this notice on)."""
    if not customer_ids:
        return 0
    with transaction.atomic():  # the notice's row lock: see _settle
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if locked.status != NoticeStatus.SENDING:
            return 0
        return audiences.insert_deliveries(
            locked, fallback_for=customer_ids, fallback_from=failed_channel
        )


def run_notice(notice_id: int, *, batch: int | None = None, budget_seconds: float = 50) -> str:
    """Work on one notice until nothing is due (or the time budget is spent).

    Returns "done" (nothing left), "later" (retries, quiet hours or held messages remain) or
    "more" (budget spent with work still due).
    """
    notice = Notice.objects.get(pk=notice_id)
    if notice.status != NoticeStatus.SENDING:
        return "done"
    outbox.sweep()
    if notice.outage_id is not None:
        supersede_restored(notice.outage_id)
    release_held(notice)
    earlier = earlier_notices(notice)
    deadline = time.monotonic() + budget_seconds
    size = batch or settings.AMENDS_DISPATCH_BATCH
    with outbox.LeaseKeeper() as keeper:
        while time.monotonic() < deadline:
            claimed = outbox.claim(notice_id, limit=size, now=timezone.now(), earlier=earlier)
            if not claimed.deliveries:
                break
            keeper.hold(claimed)
            process(claimed)
            keeper.hold(None)
        else:
            return "more"
    return _settle(notice)


def earlier_notices(notice: Notice) -> list[int]:
    """The notices of the same outage still sending whose messages to a customer go before
    this one's: those made before it (an urgent notice waits only for urgent ones, never for
    a progress update waiting for the end of someone's quiet hours)."""
    if notice.outage_id is None:
        return []
    earlier = Notice.objects.filter(
        outage_id=notice.outage_id, pk__lt=notice.pk, status=NoticeStatus.SENDING
    ).exclude(audience=Audience.SUBSCRIBERS)
    if notice.urgent:
        earlier = earlier.filter(urgent=True)
    return list(earlier.values_list("pk", flat=True))


def _settle(notice: Notice) -> str:
    """Close the notice when no delivery is open any more.

    Under the notice's row lock, which fallbacks also take before adding a delivery, so a
    fallback can never land on a notice that was just closed.
    """
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if locked.status != NoticeStatus.SENDING:
            return "done"
        if Delivery.objects.filter(notice=locked, status__in=OPEN_DELIVERY).exists():
            return "later"
        locked.status, locked.finished_at = NoticeStatus.SENT, timezone.now()
        locked.save(update_fields=["status", "finished_at"])
    return "done"
