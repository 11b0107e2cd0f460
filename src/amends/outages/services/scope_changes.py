"""Widening, narrowing and restoring an outage's scope."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError
from amends.outages import scope
from amends.outages.impact import ImpactDiff, resolve_impact
from amends.outages.models import (
    Outage,
    ScopeItem,
    Status,
    Visibility,
)
from amends.outages.services.common import (
    OutageChange,
    add_scope_item,
    add_timeline_entry,
    locked_open,
    public_change,
    reclassify,
    restore_items,
)


def outage_add_scope(
    *, actor: audit.Actor, outage: Outage, items: Sequence[scope.ScopeSpec]
) -> OutageChange:
    """Widen (or, with exclusions, narrow) the scope; returns who became (un)affected."""
    now = timezone.now()
    resolved = [scope.resolve(spec, prefix=f"scope[{i}]") for i, spec in enumerate(items)]
    with transaction.atomic():
        outage = locked_open(outage)
        added = [
            add_scope_item(outage, r, started_at=spec.started_at or now)
            for spec, r in zip(items, resolved, strict=True)
        ]
        diff = resolve_impact(outage, at=now)
        public_change()  # the areas and counts on the status page change
        reopened = _back_to_restoring(outage, actor, added, diff, now=now)
        reclassify(outage, now=now)
        audit.record(
            actor,
            "outage.scope_add",
            outage,
            after={
                "items": [str(i) for i in added],
                "newly_affected": diff.newly_affected,
                "no_longer_affected": diff.no_longer_affected,
                **({"status": outage.status} if reopened else {}),
            },
        )
    return OutageChange(outage, diff)


def _back_to_restoring(
    outage: Outage,
    actor: audit.Actor,
    added: Sequence[ScopeItem],
    diff: ImpactDiff,
    *,
    now: datetime,
) -> bool:
    """An outage in monitoring that gains an included area has services out again: it is
    restoring until that area is restored too. ``restored_at`` keeps the moment the earlier
    areas came back (their windows are closed and stay so); the next full restoration sets it."""
    if outage.status != Status.MONITORING or not any(item.include for item in added):
        return False
    outage.status = Status.RESTORING
    outage.save(update_fields=["status", "updated_at"])
    add_timeline_entry(
        outage,
        actor,
        Visibility.PUBLIC,
        f"The outage has grown: {diff.newly_affected:,} more services are out. Status: Restoring.",
        now,
    )
    return True


def outage_remove_scope(*, actor: audit.Actor, outage: Outage, item_id: int) -> OutageChange:
    """Withdraw a scope item entered by mistake; its services' windows end now."""
    now = timezone.now()
    with transaction.atomic():
        outage = locked_open(outage)
        item = outage.scope_items.filter(pk=item_id).first()
        if item is None:
            raise AmendsError(f"no scope item {item_id} on {outage.reference}", field="scope")
        description = str(item)
        item.delete()
        if not outage.scope_items.filter(include=True).exists():
            raise AmendsError("an outage needs at least one included scope item", field="scope")
        diff = resolve_impact(outage, at=now)
        public_change()  # the areas and counts on the status page change
        reclassify(outage, now=now)
        audit.record(
            actor,
            "outage.scope_remove",
            outage,
            before={"item": description},
            after={"no_longer_affected": diff.no_longer_affected},
        )
    return OutageChange(outage, diff)


def outage_restore(
    *,
    actor: audit.Actor,
    outage: Outage,
    item_ids: Sequence[int] | None = None,
    at: datetime | None = None,
    message: str = "",
) -> OutageChange:
    """Mark some scope items (default: all open ones) restored at ``at``.

    Windows close for exactly the services no open include item covers any more: a service
    covered by two items stays affected until both are restored. When nothing remains open the
    outage moves to monitoring.
    """
    now = timezone.now()
    at = at or now
    if at > now:
        raise AmendsError("cannot be in the future", field="at")
    with transaction.atomic():
        outage = locked_open(outage)
        if at < outage.started_at:
            raise AmendsError("is before the outage started", field="at")
        items = outage.scope_items.filter(restored_at__isnull=True, include=True)
        if item_ids is not None:
            unknown = set(item_ids) - set(items.values_list("pk", flat=True))
            if unknown:
                raise AmendsError(
                    f"no open scope item(s) {sorted(unknown)} on {outage.reference}", field="scope"
                )
            items = items.filter(pk__in=item_ids)
        restored = [str(i) for i in items]
        diff = restore_items(outage, items, at=at)
        if not outage.scope_items.filter(restored_at__isnull=True, include=True).exists():
            outage.restored_at = at
            if outage.status != Status.MONITORING:
                outage.status = Status.MONITORING
            outage.save(update_fields=["restored_at", "status", "updated_at"])
        add_timeline_entry(
            outage,
            actor,
            Visibility.PUBLIC,
            message or f"Service is back for {diff.no_longer_affected:,} services.",
            now,
            change="restore",
        )
        reclassify(outage, now=now)
        audit.record(
            actor,
            "outage.restore",
            outage,
            after={
                "items": restored,
                "at": at,
                "restored_services": diff.no_longer_affected,
            },
        )
    return OutageChange(outage, diff)
