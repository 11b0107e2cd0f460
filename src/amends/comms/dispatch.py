"""Sending: claim a batch of due deliveries with a lease, render, hand to the provider, record.

At least once, never twice (ARCHITECTURE rule 1):

* a worker *claims* a batch in its own short transaction (``status = sending`` with a lease),
  so the claim is visible to every other worker before anything is sent;
* it sends *outside* any transaction, each message carrying its idempotency key;
* it records each result with a conditional update (only rows it still holds);
* a worker that dies leaves rows in ``sending`` whose lease expires; the sweeper puts them back
  in the queue and the next worker sends them again with the same keys, which a provider that
  honours idempotency keys drops (an SMTP server cannot: the repeat carries the same
  Message-ID so that the receiving side can).

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
from amends.comms.channels.base import ChannelError, OutboundMessage, SendResult
from amends.comms.channels.registry import channel_for
from amends.comms.content import build_messages
from amends.comms.models import OPEN_DELIVERY, Delivery, DeliveryStatus, Notice, NoticeStatus
from amends.comms.ratelimit import acquire

log = logging.getLogger(__name__)


def lease() -> timedelta:
    return timedelta(seconds=settings.AMENDS_DELIVERY_LEASE_SECONDS)


def _db(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def claim(notice_id: int, *, limit: int, now: datetime) -> list[int]:
    """Take up to ``limit`` due deliveries of the notice, highest priority first.

    The conditional ``status = 'queued'`` inside one UPDATE means two workers can never both
    take a row; on PostgreSQL, SKIP LOCKED lets them take different rows without waiting.
    """
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with transaction.atomic(), connection.cursor() as cursor:
        # The CTE picks the rows once; an IN (subquery … LIMIT) may be re-evaluated by
        # PostgreSQL and take more rows than asked for.
        cursor.execute(
            "WITH picked AS (SELECT id FROM comms_delivery WHERE notice_id = %s AND status = %s "
            f"AND next_attempt_at <= %s ORDER BY priority, id LIMIT %s{skip_locked}) "
            "UPDATE comms_delivery SET status = %s, lease_until = %s, attempts = attempts + 1 "
            "FROM picked WHERE comms_delivery.id = picked.id AND comms_delivery.status = %s "
            "RETURNING comms_delivery.id",
            [
                notice_id,
                DeliveryStatus.QUEUED,
                _db(now),
                limit,
                DeliveryStatus.SENDING,
                _db(now + lease()),
                DeliveryStatus.QUEUED,
            ],
        )
        return sorted(row[0] for row in cursor.fetchall())


def sweep(*, now: datetime | None = None) -> int:
    """Put deliveries whose worker's lease expired back in the queue; returns how many."""
    now = now or timezone.now()
    # They keep their due time (it had come when they were claimed), so they go next.
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
        status=DeliveryStatus.QUEUED, lease_until=None
    )


def release_held(notice: Notice) -> int:
    """Queue held messages of customers whose mobile service is back."""
    down, params = audiences.mobile_down_sql(notice)
    with connection.cursor() as cursor:
        # NOT EXISTS (an anti-join), not NOT IN: over a national mobile outage the NOT IN
        # set would not fit in memory and PostgreSQL would rescan it for every row.
        cursor.execute(
            "UPDATE comms_delivery SET status = %s, next_attempt_at = %s "
            "WHERE notice_id = %s AND status = %s AND NOT EXISTS (SELECT 1 FROM "
            f"({down}) md WHERE md.customer_id = comms_delivery.customer_id)",
            [DeliveryStatus.QUEUED, _db(timezone.now()), notice.pk, DeliveryStatus.HELD, *params],
        )
        return int(cursor.rowcount)


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


def process(ids: list[int]) -> BatchOutcome:
    """Send claimed deliveries; every one ends sent, queued again, failed or dead."""
    outcome = BatchOutcome()
    deliveries = _load(ids)
    prepared = build_messages(deliveries)
    for delivery, until in prepared.deferred:
        _requeue(delivery, at=until, error="", count_attempt=False)
    outcome.deferred = len(prepared.deferred)
    if prepared.unrenderable:  # no template for that channel: retrying cannot help
        _record(
            "render",
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
        _send(capability, pairs, outcome)
    return outcome


def _send(
    capability: str, pairs: list[tuple[Delivery, OutboundMessage]], outcome: BatchOutcome
) -> None:
    channel = channel_for(capability)
    for start in range(0, len(pairs), channel.batch_size):
        chunk = pairs[start : start + channel.batch_size]
        acquire(channel.name, len(chunk), rate=channel.rate_per_second)
        try:
            results = channel.send_batch([message for _, message in chunk])
        except ChannelError as exc:
            results = [
                SendResult(d.pk, ok=False, error=exc.message, permanent=exc.permanent)
                for d, _ in chunk
            ]
        _record(channel.name, [delivery for delivery, _ in chunk], results, outcome)


def _record(
    provider: str, chunk: list[Delivery], results: list[SendResult], outcome: BatchOutcome
) -> None:
    now = timezone.now()
    by_id = {result.delivery_id: result for result in results}
    failed_for_good: list[Delivery] = []
    sent_ids = []
    for delivery in chunk:
        result = by_id.get(delivery.pk) or SendResult(
            delivery.pk, ok=False, error="no result from the provider"
        )
        if result.ok:
            sent_ids.append((delivery.pk, result.provider_id))
        elif not result.permanent and delivery.attempts < settings.AMENDS_MAX_ATTEMPTS:
            _requeue(delivery, at=now + backoff(delivery.attempts), error=result.error)
            outcome.retried += 1
        else:
            status = DeliveryStatus.FAILED if result.permanent else DeliveryStatus.DEAD
            _finish(delivery, status=status, error=result.error, provider=provider, now=now)
            failed_for_good.append(delivery)
            outcome.failed += 1
    _mark_sent(sent_ids, provider=provider, now=now)
    outcome.sent += len(sent_ids)
    for notice_id in {d.notice_id for d in failed_for_good}:
        customers = [d.customer_id for d in failed_for_good if d.notice_id == notice_id]
        fall_back(
            Notice.objects.get(pk=notice_id), customers, failed_channel=failed_for_good[0].channel
        )


_CUSTOMER_FIELDS = (
    "name",
    "preferred_name",
    "segment",
    "language",
    "time_zone",
    "quiet_hours_start",
    "quiet_hours_end",
)


def _load(ids: list[int]) -> list[Delivery]:
    """The claimed rows with what rendering needs; each notice (and outage) loaded once."""
    deliveries = list(
        Delivery.objects.filter(id__in=ids, status=DeliveryStatus.SENDING)
        .select_related("customer")
        .only(
            "notice_id",
            "customer_id",
            "channel",
            "address",
            "language",
            "priority",
            "attempts",
            *(f"customer__{name}" for name in _CUSTOMER_FIELDS),
        )
        .order_by("priority", "id")
    )
    notices = Notice.objects.select_related("outage").in_bulk({d.notice_id for d in deliveries})
    for delivery in deliveries:
        delivery.notice = notices[delivery.notice_id]
    return deliveries


def _mark_sent(sent: list[tuple[int, str]], *, provider: str, now: datetime) -> None:
    """One statement for the batch, each row only if this worker still holds it."""
    if not sent:
        return
    rows = ", ".join(["(%s, %s)"] * len(sent))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"WITH done(id, provider_id) AS (VALUES {rows}) "
            "UPDATE comms_delivery SET status = %s, provider = %s, "
            "provider_id = done.provider_id, sent_at = %s, lease_until = NULL, error = '' "
            "FROM done WHERE comms_delivery.id = done.id AND comms_delivery.status = %s",
            [
                *(value for pair in sent for value in pair),
                DeliveryStatus.SENT,
                provider,
                _db(now),
                DeliveryStatus.SENDING,
            ],
        )


def _requeue(delivery: Delivery, *, at: datetime, error: str, count_attempt: bool = True) -> None:
    attempts = delivery.attempts if count_attempt else delivery.attempts - 1
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.QUEUED,
        next_attempt_at=at,
        lease_until=None,
        error=error[:2000],
        attempts=attempts,
    )


def _finish(delivery: Delivery, *, status: str, error: str, provider: str, now: datetime) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status, error=error[:2000], provider=provider, lease_until=None, finished_at=now
    )


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
    sweep()
    release_held(notice)
    deadline = time.monotonic() + budget_seconds
    size = batch or settings.AMENDS_DISPATCH_BATCH
    while time.monotonic() < deadline:
        ids = claim(notice_id, limit=size, now=timezone.now())
        if not ids:
            break
        process(ids)
    else:
        return "more"
    return _settle(notice)


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
