"""Every write to an outage: declare, change scope, move through the lifecycle, set the ETR,
post updates, restore part or all. Each runs in one transaction with an audit entry, checks the
outage's current state, and re-resolves impact and classification when they may change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.outages import classification, queries, scope
from amends.outages.impact import ImpactDiff, resolve_impact
from amends.outages.models import (
    OPEN_STATUSES,
    ClassificationChange,
    EndReason,
    EtrChange,
    Outage,
    ScopeCell,
    ScopeItem,
    ScopeService,
    Severity,
    Status,
    Update,
    Visibility,
)

# Which status may follow which. Skipping ahead is allowed (a short outage can go straight to
# resolved); going back is allowed only where real incidents do (a fix that did not hold).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.INVESTIGATING: (Status.IDENTIFIED, Status.RESTORING, Status.MONITORING, Status.RESOLVED),
    Status.IDENTIFIED: (Status.RESTORING, Status.MONITORING, Status.RESOLVED),
    Status.RESTORING: (Status.MONITORING, Status.RESOLVED),
    Status.MONITORING: (Status.RESTORING, Status.RESOLVED),
    Status.RESOLVED: (Status.CLOSED, Status.RESTORING),
    Status.CLOSED: (),
}

DEFAULT_UPDATE_INTERVAL = timedelta(hours=6)  # the regulator's cadence in the first 24 hours


@dataclass(frozen=True)
class OutageChange:
    outage: Outage
    impact: ImpactDiff | None = None


def _next_reference(year: int) -> str:
    prefix = f"OUT-{year}-"
    last = (
        Outage.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:04d}"


def _snapshot(outage: Outage) -> dict[str, object]:
    return {
        "status": outage.status,
        "classification": outage.classification,
        "etr": outage.etr,
        "affected_services": outage.affected_services,
        "affected_customers": outage.affected_customers,
    }


def _check_future(value: datetime | None, *, now: datetime, field: str) -> None:
    if value is not None and value <= now:
        raise AmendsError("must be in the future", field=field)


def outage_declare(
    *,
    actor: audit.Actor,
    title: str,
    scope_items: Sequence[scope.ScopeSpec],
    summary: str = "",
    cause_public: str = "",
    cause_internal: str = "",
    severity: str = Severity.MAJOR,
    started_at: datetime | None = None,
    detected_at: datetime | None = None,
    etr: datetime | None = None,
    next_update_by: datetime | None = None,
    natural_disaster: bool = False,
    alert_source: str = "",
    alert_key: str = "",
    commander_id: int | None = None,
) -> OutageChange:
    """Open an outage with its scope, resolve who it affects and classify it."""
    now = timezone.now()
    if not title.strip():
        raise AmendsError("is required", field="title")
    if severity not in Severity.values:
        raise AmendsError(
            f"{severity!r} is not one of {', '.join(Severity.values)}", field="severity"
        )
    started = started_at or now
    if started > now:
        raise AmendsError("cannot be in the future", field="started_at")
    _check_future(etr, now=now, field="etr")
    _check_future(next_update_by, now=now, field="next_update_by")
    resolved = [scope.resolve(spec, prefix=f"scope[{i}]") for i, spec in enumerate(scope_items)]
    if not any(r.values["include"] for r in resolved):
        raise AmendsError(
            "name at least one area, element, product or service affected", field="scope"
        )
    with transaction.atomic():
        outage = _create_with_reference(
            title=title.strip(),
            public_summary=summary,
            cause_public=cause_public,
            cause_internal=cause_internal,
            severity=severity,
            natural_disaster=natural_disaster,
            detected_at=detected_at or started,
            started_at=started,
            etr=etr,
            next_update_by=next_update_by or now + DEFAULT_UPDATE_INTERVAL,
            alert_source=alert_source,
            alert_key=alert_key,
            commander_id=commander_id,
        )
        for spec, item in zip(scope_items, resolved, strict=True):
            _add_item(outage, item, started_at=spec.started_at or started)
        if etr is not None:
            EtrChange.objects.create(
                outage=outage,
                etr=etr,
                next_update_by=outage.next_update_by,
                reason="declared",
                author=audit.actor_name(actor),
                created_at=now,
            )
        _timeline(
            outage,
            actor,
            Visibility.PUBLIC,
            summary or f"We are investigating: {outage.title}.",
            now,
        )
        diff = resolve_impact(outage, at=now)
        _reclassify(outage, now=now)
        audit.record(
            actor,
            "outage.declare",
            outage,
            after={
                **_snapshot(outage),
                "reference": outage.reference,
                "title": outage.title,
                "scope": [str(i) for i in outage.scope_items.all()],
            },
        )
    return OutageChange(outage, diff)


def outage_preview(*, scope_items: Sequence[scope.ScopeSpec]) -> queries.ImpactCounts:
    """Who an outage with this scope would affect, resolved exactly as declaring would, inside a
    savepoint that is always rolled back: nothing is kept and nothing is audited."""
    resolved = [scope.resolve(spec, prefix=f"scope[{i}]") for i, spec in enumerate(scope_items)]
    if not any(r.values["include"] for r in resolved):
        raise AmendsError(
            "name at least one area, element, product or service affected", field="scope"
        )
    now = timezone.now()
    with transaction.atomic():
        outage = Outage.objects.create(
            reference=f"PREVIEW-{uuid.uuid4().hex[:12]}",
            title="Preview",
            detected_at=now,
            started_at=now,
        )
        for spec, item in zip(scope_items, resolved, strict=True):
            _add_item(outage, item, started_at=spec.started_at or now)
        resolve_impact(outage, at=now)
        counts = queries.impact_counts(outage)
        transaction.set_rollback(True)
    return counts


def _create_with_reference(**values: Any) -> Outage:
    """Create the outage with the year's next reference, retrying if another declare took it."""
    year = values["started_at"].year
    for attempt in range(5):
        try:
            with transaction.atomic():  # a savepoint: a clash rolls back only this insert
                return Outage.objects.create(reference=_next_reference(year), **values)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _add_item(outage: Outage, resolved: scope.ResolvedScope, *, started_at: datetime) -> ScopeItem:
    item = ScopeItem.objects.create(outage=outage, started_at=started_at, **resolved.values)
    ScopeCell.objects.bulk_create(
        [ScopeCell(scope_item=item, cell=cell) for cell in resolved.cells], batch_size=5000
    )
    ScopeService.objects.bulk_create(
        [ScopeService(scope_item=item, service_id=sid) for sid in resolved.service_ids],
        batch_size=5000,
    )
    return item


def _timeline(
    outage: Outage, actor: audit.Actor, visibility: str, message: str, at: datetime
) -> Update:
    return Update.objects.create(
        outage=outage,
        visibility=visibility,
        status=outage.status,
        message=message,
        author=audit.actor_name(actor),
        created_at=at,
    )


def _reclassify(outage: Outage, *, now: datetime) -> None:
    facts = classification.gather_facts(outage, now=now)
    label, reason = classification.classify(facts, classification.configured_thresholds())
    last = outage.classification_changes.order_by("-created_at", "-id").first()
    if last is not None and last.classification == label:
        return
    ClassificationChange.objects.create(
        outage=outage,
        classification=label,
        reason=reason,
        facts=classification.facts_dict(facts),
        created_at=now,
    )
    Outage.objects.filter(pk=outage.pk).update(classification=label)
    outage.classification = label


def _locked_open(outage: Outage) -> Outage:
    """Re-read the outage under a row lock and refuse if it is no longer open."""
    current = Outage.objects.select_for_update().get(pk=outage.pk)
    if current.status not in OPEN_STATUSES:
        raise Conflict(f"{current.reference} is {current.status}; reopen it first")
    return current


def outage_add_scope(
    *, actor: audit.Actor, outage: Outage, items: Sequence[scope.ScopeSpec]
) -> OutageChange:
    """Widen (or, with exclusions, narrow) the scope; returns who became (un)affected."""
    now = timezone.now()
    resolved = [scope.resolve(spec, prefix=f"scope[{i}]") for i, spec in enumerate(items)]
    with transaction.atomic():
        outage = _locked_open(outage)
        added = [
            _add_item(outage, r, started_at=spec.started_at or now)
            for spec, r in zip(items, resolved, strict=True)
        ]
        diff = resolve_impact(outage, at=now)
        _reclassify(outage, now=now)
        audit.record(
            actor,
            "outage.scope_add",
            outage,
            after={
                "items": [str(i) for i in added],
                "newly_affected": diff.newly_affected,
                "no_longer_affected": diff.no_longer_affected,
            },
        )
    return OutageChange(outage, diff)


def outage_remove_scope(*, actor: audit.Actor, outage: Outage, item_id: int) -> OutageChange:
    """Withdraw a scope item entered by mistake; its services' windows end now."""
    now = timezone.now()
    with transaction.atomic():
        outage = _locked_open(outage)
        item = outage.scope_items.filter(pk=item_id).first()
        if item is None:
            raise AmendsError(f"no scope item {item_id} on {outage.reference}", field="scope")
        description = str(item)
        item.delete()
        if not outage.scope_items.filter(include=True).exists():
            raise AmendsError("an outage needs at least one included scope item", field="scope")
        diff = resolve_impact(outage, at=now)
        _reclassify(outage, now=now)
        audit.record(
            actor,
            "outage.scope_remove",
            outage,
            before={"item": description},
            after={"no_longer_affected": diff.no_longer_affected},
        )
    return OutageChange(outage, diff)


def outage_transition(
    *, actor: audit.Actor, outage: Outage, to: str, message: str = ""
) -> OutageChange:
    """Move the outage to status ``to`` if its current status allows it.

    Resolving restores every scope item still open; reopening a resolved outage ("restoring")
    clears its restoration and resolution times but keeps the closed windows as they were.
    """
    if to not in Status.values:
        raise AmendsError(f"{to!r} is not a status ({', '.join(Status.values)})", field="status")
    now = timezone.now()
    with transaction.atomic():
        current = Outage.objects.select_for_update().get(pk=outage.pk)
        if to not in TRANSITIONS[current.status]:
            allowed = ", ".join(TRANSITIONS[current.status]) or "nothing"
            raise Conflict(
                f"{current.reference} is {current.status}; it can move to {allowed}", field="status"
            )
        before = _snapshot(current)
        diff = None
        if to == Status.RESOLVED:
            diff = _restore_items(
                current, current.scope_items.filter(restored_at__isnull=True), at=now
            )
            current.resolved_at = now
            current.restored_at = current.restored_at or now
        elif to == Status.CLOSED:
            current.closed_at = now
        elif current.status == Status.RESOLVED:  # reopened
            current.resolved_at = current.restored_at = None
        current.status = to
        current.save(
            update_fields=["status", "resolved_at", "restored_at", "closed_at", "updated_at"]
        )
        _timeline(
            current,
            actor,
            Visibility.PUBLIC,
            message or f"Status: {current.get_status_display()}.",
            now,
        )
        _reclassify(current, now=now)
        audit.record(actor, f"outage.{to}", current, before=before, after=_snapshot(current))
    return OutageChange(current, diff)


def _restore_items(outage: Outage, items: QuerySet[ScopeItem], *, at: datetime) -> ImpactDiff:
    items.update(restored_at=at)
    return resolve_impact(outage, at=at, end_reason=EndReason.RESTORED)


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
        outage = _locked_open(outage)
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
        diff = _restore_items(outage, items, at=at)
        if not outage.scope_items.filter(restored_at__isnull=True, include=True).exists():
            outage.restored_at = at
            if outage.status != Status.MONITORING:
                outage.status = Status.MONITORING
            outage.save(update_fields=["restored_at", "status", "updated_at"])
        _timeline(
            outage,
            actor,
            Visibility.PUBLIC,
            message or f"Service is back for {diff.no_longer_affected:,} services.",
            now,
        )
        _reclassify(outage, now=now)
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


def outage_set_etr(
    *,
    actor: audit.Actor,
    outage: Outage,
    etr: datetime | None,
    next_update_by: datetime | None = None,
    reason: str = "",
) -> OutageChange:
    """Change the estimated restoration time (None: unknown) and promise the next update."""
    now = timezone.now()
    _check_future(etr, now=now, field="etr")
    _check_future(next_update_by, now=now, field="next_update_by")
    with transaction.atomic():
        outage = _locked_open(outage)
        before = {"etr": outage.etr, "next_update_by": outage.next_update_by}
        outage.etr = etr
        outage.next_update_by = next_update_by or now + DEFAULT_UPDATE_INTERVAL
        outage.save(update_fields=["etr", "next_update_by", "updated_at"])
        EtrChange.objects.create(
            outage=outage,
            etr=etr,
            next_update_by=outage.next_update_by,
            reason=reason,
            author=audit.actor_name(actor),
            created_at=now,
        )
        when = timezone.localtime(etr).strftime("%a %d %b %H:%M") if etr else "not yet known"
        _timeline(
            outage,
            actor,
            Visibility.PUBLIC,
            f"Estimated restoration: {when}." + (f" {reason}" if reason else ""),
            now,
        )
        _reclassify(outage, now=now)
        audit.record(
            actor,
            "outage.etr",
            outage,
            before=before,
            after={"etr": etr, "next_update_by": outage.next_update_by},
        )
    return OutageChange(outage)


def outage_post_update(
    *,
    actor: audit.Actor,
    outage: Outage,
    message: str,
    visibility: str = Visibility.PUBLIC,
    next_update_by: datetime | None = None,
) -> Update:
    """Add a timeline entry; a public one also renews the "next update by" promise."""
    now = timezone.now()
    if not message.strip():
        raise AmendsError("is required", field="message")
    if visibility not in Visibility.values:
        raise AmendsError(f"{visibility!r} is not public or internal", field="visibility")
    _check_future(next_update_by, now=now, field="next_update_by")
    with transaction.atomic():
        outage = Outage.objects.select_for_update().get(pk=outage.pk)
        if outage.status == Status.CLOSED:
            raise Conflict(f"{outage.reference} is closed")
        update = _timeline(outage, actor, visibility, message.strip(), now)
        if visibility == Visibility.PUBLIC:
            outage.next_update_by = next_update_by or now + DEFAULT_UPDATE_INTERVAL
            outage.save(update_fields=["next_update_by", "updated_at"])
        audit.record(
            actor,
            "outage.update",
            update,
            after={"visibility": visibility, "message": update.message},
        )
    return update


def outage_propose_restoration(*, actor: audit.Actor, outage: Outage, source: str) -> Outage:
    """Record that monitoring says it is fixed; the commander confirms with outage_restore."""
    now = timezone.now()
    with transaction.atomic():
        outage = _locked_open(outage)
        outage.restoration_proposed_at = now
        outage.save(update_fields=["restoration_proposed_at", "updated_at"])
        _timeline(
            outage,
            actor,
            Visibility.INTERNAL,
            f"{source} reports the fault cleared. Confirm restoration when verified.",
            now,
        )
        audit.record(actor, "outage.restoration_proposed", outage, after={"source": source})
    return outage
