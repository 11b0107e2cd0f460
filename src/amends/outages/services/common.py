"""Pieces every outage write shares: the change result, timeline entries, reclassification,
row locking and restoration of scope items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.outages import classification, scope
from amends.outages.impact import ImpactDiff, resolve_impact
from amends.outages.models import (
    OPEN_STATUSES,
    ClassificationChange,
    EndReason,
    Outage,
    ScopeCell,
    ScopeItem,
    ScopeService,
    Update,
    Visibility,
)

DEFAULT_UPDATE_INTERVAL = timedelta(hours=6)  # the regulator's cadence in the first 24 hours


@dataclass(frozen=True)
class OutageChange:
    outage: Outage
    impact: ImpactDiff | None = None


def snapshot(outage: Outage) -> dict[str, object]:
    return {
        "status": outage.status,
        "classification": outage.classification,
        "etr": outage.etr,
        "affected_services": outage.affected_services,
        "affected_customers": outage.affected_customers,
    }


def check_future(value: datetime | None, *, now: datetime, field: str) -> None:
    if value is not None and value <= now:
        raise AmendsError("must be in the future", field=field)


def next_promise(
    given: datetime | None, *, now: datetime, etr: datetime | None, keep: datetime | None = None
) -> datetime:
    """When the next public update is promised: ``given``; else ``keep`` (the promise already
    published, which an ETR change must not move later silently) while it is still ahead;
    else ``DEFAULT_UPDATE_INTERVAL`` from now. Never after a future ETR: an update is due
    when the fix is, and an earlier update still keeps a later promise."""
    if given is not None:
        return given
    promise = keep if keep is not None and keep > now else now + DEFAULT_UPDATE_INTERVAL
    return min(promise, etr) if etr is not None and etr > now else promise


def add_scope_item(
    outage: Outage, resolved: scope.ResolvedScope, *, started_at: datetime
) -> ScopeItem:
    item = ScopeItem.objects.create(outage=outage, started_at=started_at, **resolved.values)
    ScopeCell.objects.bulk_create(
        [ScopeCell(scope_item=item, cell=cell) for cell in resolved.cells]
        + [ScopeCell(scope_item=item, cell=cell, edge=True) for cell in resolved.edge_cells],
        batch_size=5000,
    )
    ScopeService.objects.bulk_create(
        [ScopeService(scope_item=item, service_id=sid) for sid in resolved.service_ids],
        batch_size=5000,
    )
    return item


def public_change(update: Update | None = None, *, change: str = "update") -> None:
    """Republish the status page once this transaction commits (every public change to an
    outage — declare, scope, status, ETR, restoration, public update — comes through here).
    A public timeline entry is also announced: to status subscribers and social accounts.
    ``change`` says what happened: declare, update, etr, restore, resolve or close."""
    from amends.statuspage.services import announce_update, request_publish

    request_publish()
    if update is not None:
        announce_update(update, change=change)


def release_held_deliveries(outage: Outage) -> None:
    """No message of this outage waits for a restoration once its services are back or
    resolved (see ``comms.dispatch.release_outage_held``)."""
    from amends.comms.dispatch import release_outage_held

    release_outage_held(outage.pk)


def add_timeline_entry(
    outage: Outage,
    actor: audit.Actor,
    visibility: str,
    message: str,
    at: datetime,
    *,
    change: str = "update",
) -> Update:
    update = Update.objects.create(
        outage=outage,
        visibility=visibility,
        status=outage.status,
        message=message,
        author=audit.actor_name(actor),
        created_at=at,
    )
    if visibility == Visibility.PUBLIC:
        public_change(update, change=change)
    return update


def reclassify(outage: Outage, *, now: datetime) -> None:
    """Recompute the classification. A new label is a new history row with the moment its
    threshold was crossed; the same label with new facts (an ETR moved) refreshes the current
    row's reason and facts in place, so the reason is always current and the history holds
    one row per label change."""
    thresholds = classification.configured_thresholds()
    facts = classification.gather_facts(outage, now=now, thresholds=thresholds)
    label, reason = classification.classify(facts, thresholds)
    last = outage.classification_changes.order_by("-created_at", "-id").first()
    if last is not None and last.classification == label:
        if last.reason != reason:
            ClassificationChange.objects.filter(pk=last.pk).update(
                reason=reason, facts=classification.facts_dict(facts)
            )
        return
    ClassificationChange.objects.create(
        outage=outage,
        classification=label,
        reason=reason,
        facts=classification.facts_dict(facts),
        crossed_at=classification.crossed_at(outage, facts, label, now=now, thresholds=thresholds),
        created_at=now,
    )
    Outage.objects.filter(pk=outage.pk).update(classification=label)
    outage.classification = label


def locked_open(outage: Outage) -> Outage:
    """Re-read the outage under a row lock and refuse if it is no longer open."""
    current = Outage.objects.select_for_update().get(pk=outage.pk)
    if current.status not in OPEN_STATUSES:
        raise Conflict(f"{current.reference} is {current.status}; reopen it first")
    return current


def restore_items(outage: Outage, items: QuerySet[ScopeItem], *, at: datetime) -> ImpactDiff:
    items.update(restored_at=at)
    return resolve_impact(outage, at=at, end_reason=EndReason.RESTORED)
