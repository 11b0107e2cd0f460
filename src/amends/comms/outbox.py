"""The dispatcher's statements over the outbox (comms_delivery): claim a batch with a lease,
keep the lease while working on it, record what became of each row, sweep expired leases.

Every claim carries a random *token*. After the claim, every statement here touches only rows
that are still ``sending`` with that token: a worker that stalled past its lease (a busy
machine, a slow provider) and lost its rows to the sweeper and then to another worker can
neither send them again nor record over the other worker's results. While a worker is busy
with a batch, a ``LeaseKeeper`` thread renews the batch's lease, so a live worker does not lose
its rows in the first place; only a dead (or frozen) worker's rows go back to the queue.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from amends.comms.batchsql import id_in, id_text_pairs
from amends.comms.models import OPEN_DELIVERY, Delivery, DeliveryStatus

log = logging.getLogger(__name__)

# What rendering and recording read of a claimed row, in the model's field order (from_db
# maps values to fields in that order). Other fields stay deferred: do not read them.
_LOADED = [
    field.attname
    for field in Delivery._meta.concrete_fields
    if field.attname
    in {
        "id",
        "notice_id",
        "customer_id",
        "subscriber_id",
        "channel",
        "address",
        "language",
        "priority",
        "attempts",
    }
]


def lease() -> timedelta:
    return timedelta(seconds=settings.AMENDS_DELIVERY_LEASE_SECONDS)


def _db(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _skip_locked() -> str:
    return " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""


@dataclass(frozen=True)
class Claim:
    """A claimed batch: its token and its rows (``Delivery`` with the fields in _LOADED), in
    priority order."""

    token: int
    deliveries: list[Delivery]

    @property
    def ids(self) -> list[int]:
        return [delivery.pk for delivery in self.deliveries]


def _after_earlier(earlier: Sequence[int]) -> tuple[str, list[Any]]:
    """A condition on a claimed row: its customer has no message of the ``earlier`` notices
    (of the same outage) still on its way. A later notice never overtakes an earlier one:
    the customer's held acknowledge goes (or is superseded) before the ETR change after it.

    Looked up by (notice, customer) in the ``delivery_one_per_customer_channel`` index, one
    probe per earlier notice and candidate row; no index of its own is needed.
    """
    if not earlier:
        return "", []
    notices, params = id_in("e.notice_id", earlier)
    return (
        " AND NOT EXISTS (SELECT 1 FROM comms_delivery e WHERE "  # noqa: S608
        f"{notices} AND e.customer_id = comms_delivery.customer_id "
        "AND e.status IN (%s, %s, %s))",
        [*params, *OPEN_DELIVERY],
    )


def claim(notice_id: int, *, limit: int, now: datetime, earlier: Sequence[int] = ()) -> Claim:
    """Take up to ``limit`` due deliveries of the notice, highest priority first, and return
    them: one statement for the claim and the rows. ``earlier``: notices whose open messages
    to a customer this notice's message to them waits for (see ``_after_earlier``).

    The conditional ``status = 'queued'`` inside one UPDATE means two workers can never both
    take a row; on PostgreSQL, SKIP LOCKED lets them take different rows without waiting.
    """
    token = secrets.randbits(62)
    columns = ", ".join(f"comms_delivery.{name}" for name in _LOADED)
    waits, wait_params = _after_earlier(earlier)
    with transaction.atomic(), connection.cursor() as cursor:
        # The CTE picks the rows once; an IN (subquery … LIMIT) may be re-evaluated by
        # PostgreSQL and take more rows than asked for.
        cursor.execute(
            "WITH picked AS (SELECT id FROM comms_delivery WHERE notice_id = %s "  # noqa: S608
            f"AND status = %s{waits} "
            f"AND next_attempt_at <= %s ORDER BY priority, id LIMIT %s{_skip_locked()}) "
            "UPDATE comms_delivery SET status = %s, lease_until = %s, lease_token = %s, "
            "attempts = attempts + 1 FROM picked WHERE comms_delivery.id = picked.id "
            f"AND comms_delivery.status = %s RETURNING {columns}",
            [
                notice_id,
                DeliveryStatus.QUEUED,
                *wait_params,
                _db(now),
                limit,
                DeliveryStatus.SENDING,
                _db(now + lease()),
                token,
                DeliveryStatus.QUEUED,
            ],
        )
        rows = cursor.fetchall()
    deliveries = [Delivery.from_db(connection.alias, _LOADED, row) for row in rows]
    deliveries.sort(key=lambda delivery: (delivery.priority, delivery.pk))
    return Claim(token, deliveries)


def confirm(claimed: Claim, ids: Sequence[int], *, now: datetime) -> set[int]:
    """Which of ``ids`` the claim still holds: what may be sent now. A lease that has run
    down to less than half (the keeper's thread was starved) is renewed first."""
    if not ids:
        return set()
    where, params = id_in("id", ids)
    with connection.cursor() as cursor:
        # By primary key only, the rest checked here: a condition on status would tempt the
        # planner into delivery_leases, whose dead entries (every row that was ever sending,
        # until vacuum) make it slow.
        cursor.execute(
            "SELECT id, status, lease_token, lease_until < %s FROM comms_delivery "  # noqa: S608
            f"WHERE {where}",
            [_db(now + lease() / 2), *params],
        )
        held = {
            delivery_id: running_down
            for delivery_id, status, token, running_down in cursor.fetchall()
            if status == DeliveryStatus.SENDING and token == claimed.token
        }
    if any(held.values()):
        renew(claimed, now=now)
    return set(held)


def renew(claimed: Claim, *, now: datetime) -> int:
    """Extend the lease of the claim's rows (by primary key: see confirm). A row that left
    ``sending`` meanwhile keeps a lease it no longer needs; only ``sending`` rows are swept.

    Rows locked at this moment (the worker is recording them) are skipped, never waited for:
    the keeper's thread and the worker must not wait on each other's rows.
    """
    where, params = id_in("id", claimed.ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE comms_delivery SET lease_until = %s WHERE id IN (SELECT id FROM "  # noqa: S608
            f"comms_delivery WHERE {where} AND lease_token = %s{_skip_locked()})",
            [_db(now + lease()), *params, claimed.token],
        )
        return int(cursor.rowcount)


class LeaseKeeper:
    """Renews the held claim's lease every third of a lease, from a thread of its own, for as
    long as the worker works on it (``hold(claim)`` … ``hold(None)``).

    A provider may take longer than a lease to take a batch (an SMTP server on a busy
    machine); without renewal the sweeper would hand the batch to another worker, which would
    send it again.
    """

    def __init__(self) -> None:
        self._claim: Claim | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        # Another connection cannot see rows claimed inside an enclosing transaction (a test,
        # a caller's atomic block): there only the check before each send renews the lease.
        if not connection.in_atomic_block:
            self._thread = threading.Thread(target=self._run, name="amends-lease", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def hold(self, claimed: Claim | None) -> None:
        self._claim = claimed

    def _run(self) -> None:
        try:
            while not self._stop.wait(lease().total_seconds() / 3):
                claimed = self._claim
                if claimed is None:
                    continue
                try:
                    renew(claimed, now=timezone.now())
                except DatabaseError:  # the next round tries again; confirm() still guards
                    log.warning("could not renew claim %s", claimed.token, exc_info=True)
        finally:
            connection.close()  # this thread's own connection


def sweep(*, now: datetime | None = None) -> int:
    """Put deliveries whose worker's lease expired back in the queue; returns how many."""
    now = now or timezone.now()
    # They keep their due time (it had come when they were claimed), so they go next.
    return Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_until__lt=now).update(
        status=DeliveryStatus.QUEUED, lease_until=None, lease_token=None
    )


# --- recording ----------------------------------------------------------------------------


def mark_sent(token: int, sent: Sequence[tuple[int, str]], *, provider: str, now: datetime) -> int:
    """``sent``: (delivery id, the provider's id for it); one statement for the batch."""
    if not sent:
        return 0
    done, params = id_text_pairs(sent)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE comms_delivery SET status = %s, provider = %s, "  # noqa: S608
            "provider_id = done.value, "
            "sent_at = %s, lease_until = NULL, lease_token = NULL, error = '' "
            f"FROM {done} WHERE comms_delivery.id = done.id AND comms_delivery.status = %s "
            "AND comms_delivery.lease_token = %s",
            [
                DeliveryStatus.SENT,
                provider,
                _db(now),
                *params,
                DeliveryStatus.SENDING,
                token,
            ],
        )
        return int(cursor.rowcount)


def supersede(token: int, ids: Sequence[int], *, why: str) -> set[int]:
    """Claimed rows that must not be sent any more (out of date): superseded, never handed to
    a provider. Returns the ids the claim still held."""
    if not ids:
        return set()
    where, params = id_in("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE comms_delivery SET status = %s, error = %s, finished_at = %s, "  # noqa: S608
            f"lease_until = NULL, lease_token = NULL WHERE {where} AND status = %s "
            "AND lease_token = %s RETURNING id",
            [
                DeliveryStatus.SUPERSEDED,
                why,
                _db(timezone.now()),
                *params,
                DeliveryStatus.SENDING,
                token,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


@dataclass(frozen=True)
class Retry:
    delivery_id: int
    at: datetime
    error: str
    attempts: int  # what the row's attempts become


@dataclass(frozen=True)
class Final:
    delivery_id: int
    status: str  # failed or dead
    error: str


def requeue(token: int, retries: Sequence[Retry]) -> None:
    """Back to the queue, each due at its own time (backoff with jitter, quiet hours)."""
    _each(
        token,
        "status = %s, next_attempt_at = %s, error = %s, attempts = %s, lease_until = NULL, "
        "lease_token = NULL",
        [
            [DeliveryStatus.QUEUED, _db(r.at), r.error[:2000], r.attempts, r.delivery_id]
            for r in retries
        ],
    )


def finish(token: int, finals: Sequence[Final], *, provider: str, now: datetime) -> None:
    """Failed for good (permanent) or dead (out of attempts)."""
    _each(
        token,
        "status = %s, error = %s, provider = %s, finished_at = %s, lease_until = NULL, "
        "lease_token = NULL",
        [[f.status, f.error[:2000], provider, _db(now), f.delivery_id] for f in finals],
    )


def _each(token: int, assignments: str, rows: list[list[Any]]) -> None:
    """One UPDATE per row (each has its own values), sent together; rare paths only."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE comms_delivery SET {assignments} "  # noqa: S608
            "WHERE id = %s AND status = %s AND lease_token = %s",
            [[*row, DeliveryStatus.SENDING, token] for row in rows],
        )
