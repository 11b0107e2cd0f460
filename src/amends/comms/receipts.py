"""Delivery receipts: a provider's later word on messages it accepted.

A receipt moves a delivery, found by ``(provider, provider_id)``, from ``sent`` to its final
state — ``delivered``, ``failed`` or ``bounced`` — with one conditional UPDATE per (status,
error) group, so receipts arriving twice, late or out of order never move a delivery
backwards: a late "delivered" leaves a bounce alone. The one move out of ``delivered`` is to a
failure: an email accepted by the receiving server can still bounce afterwards, and then the
customer did not get it. A failed or bounced email or SMS falls back to the customer's next
channel, exactly as a send that fails for good does in dispatch.

A receipt for an id no delivery carries is ignored and counted in the log; so is one that
arrives before the worker has recorded the provider's id (the delivery is still ``sending``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from amends.comms import dispatch
from amends.comms.channels.base import Receipt
from amends.comms.models import Capability, Delivery, DeliveryStatus, Notice, NoticeStatus
from amends.comms.services import wake_dispatcher
from amends.core import audit

__all__ = ["apply_receipts"]

log = logging.getLogger(__name__)

# The states a receipt of each status may move a delivery out of.
_MOVES_FROM: dict[str, tuple[str, ...]] = {
    DeliveryStatus.DELIVERED: (DeliveryStatus.SENT,),
    DeliveryStatus.FAILED: (DeliveryStatus.SENT, DeliveryStatus.DELIVERED),
    DeliveryStatus.BOUNCED: (DeliveryStatus.SENT, DeliveryStatus.DELIVERED),
}
_FALLS_BACK = (Capability.EMAIL, Capability.SMS)
_CHUNK = 500  # ids per statement, well inside SQLite's limit on query parameters


@dataclass(frozen=True)
class _Moved:
    provider_id: str
    notice_id: int
    customer_id: int | None  # None: a status subscriber's message
    channel: str
    status: str


def apply_receipts(provider: str, receipts: Sequence[Receipt]) -> int:
    """Record the provider's receipts; returns how many deliveries changed state."""
    groups = _group(receipts)
    with transaction.atomic():
        moved = [
            row
            for (status, error), ids in groups.items()
            for chunk in _chunks(ids)
            for row in _move(provider, chunk, status=status, error=error)
        ]
        _fall_back(provider, [row for row in moved if row.status != DeliveryStatus.DELIVERED])
    _log_ignored(provider, {r.provider_id for r in receipts if r.provider_id}, moved)
    return len(moved)


def _group(receipts: Sequence[Receipt]) -> dict[tuple[str, str], list[str]]:
    """Provider ids by (status, error), "delivered" first so that a failure in the same call
    for the same message is applied after it and wins."""
    groups: dict[tuple[str, str], list[str]] = {}
    for receipt in receipts:
        if receipt.status not in _MOVES_FROM or not receipt.provider_id:
            log.warning("ignoring a %r receipt for %r", receipt.status, receipt.provider_id)
            continue
        error = "" if receipt.status == DeliveryStatus.DELIVERED else receipt.error[:2000]
        groups.setdefault((receipt.status, error), []).append(receipt.provider_id)
    return dict(sorted(groups.items(), key=lambda item: item[0][0] != DeliveryStatus.DELIVERED))


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


def _move(provider: str, ids: list[str], *, status: str, error: str) -> list[_Moved]:
    """One conditional UPDATE: only rows in a state this status may follow."""
    sources = _MOVES_FROM[status]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # Only placeholders are formatted into the statement; every value is a parameter.
    sql = (
        "UPDATE comms_delivery SET status = %s, error = %s, finished_at = %s "  # noqa: S608
        f"WHERE provider = %s AND provider_id IN ({_marks(ids)}) "
        # Repeats the partial index's own condition so SQLite's planner can use it.
        "AND NOT (provider_id = '') "
        f"AND status IN ({_marks(sources)}) "
        "RETURNING provider_id, notice_id, customer_id, channel"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [status, error, now, provider, *ids, *sources])
        return [
            _Moved(provider_id, notice_id, customer_id, channel, status)
            for provider_id, notice_id, customer_id, channel in cursor.fetchall()
        ]


def _marks(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _fall_back(provider: str, failed: list[_Moved]) -> None:
    """Each customer's next channel, per notice and failed channel, as dispatch does."""
    by_notice: dict[tuple[int, str], list[int]] = {}
    for row in failed:
        if row.channel in _FALLS_BACK and row.customer_id is not None:
            by_notice.setdefault((row.notice_id, row.channel), []).append(row.customer_id)
    for (notice_id, channel), customer_ids in by_notice.items():
        notice = _reopened(notice_id, provider=provider)
        if notice is not None:
            dispatch.fall_back(notice, customer_ids, failed_channel=channel)
            wake_dispatcher(notice_id)


def _reopened(notice_id: int, *, provider: str) -> Notice | None:
    """The notice (locked), back to ``sending`` if dispatch had already closed it because its
    messages were all handed over before the receipts came; None if it was stopped
    (cancelled, superseded): those send nothing more."""
    notice = Notice.objects.select_for_update().get(pk=notice_id)
    if notice.status == NoticeStatus.SENT:
        notice.status, notice.finished_at = NoticeStatus.SENDING, None
        notice.save(update_fields=["status", "finished_at"])
        audit.record(
            f"receipts:{provider}",
            "comms.notice_reopen",
            notice,
            before={"status": NoticeStatus.SENT},
            after={"status": NoticeStatus.SENDING, "reason": "failed or bounced: fallback"},
        )
    return notice if notice.status == NoticeStatus.SENDING else None


def _log_ignored(provider: str, ids: set[str], moved: list[_Moved]) -> None:
    ignored = ids - {row.provider_id for row in moved}
    if not ignored:
        return
    known = sum(
        Delivery.objects.filter(provider=provider, provider_id__in=chunk)
        .values("provider_id")
        .distinct()
        .count()
        for chunk in _chunks(sorted(ignored))
    )
    log.info(
        "%s receipts: %d for unknown ids ignored, %d for deliveries already final",
        provider,
        len(ignored) - known,
        known,
    )
