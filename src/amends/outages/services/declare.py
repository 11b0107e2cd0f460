"""Declaring an outage, and previewing who a declaration would affect."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError
from amends.core.references import create_with_reference
from amends.outages import queries, scope
from amends.outages.impact import resolve_impact
from amends.outages.models import (
    EtrChange,
    Outage,
    ScopeKind,
    Severity,
    Visibility,
)
from amends.outages.services.common import (
    OutageChange,
    add_scope_item,
    add_timeline_entry,
    check_future,
    next_promise,
    reclassify,
    snapshot,
)


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
    check_future(etr, now=now, field="etr")
    check_future(next_update_by, now=now, field="next_update_by")
    resolved = [scope.resolve(spec, prefix=f"scope[{i}]") for i, spec in enumerate(scope_items)]
    if not any(r.values["include"] for r in resolved):
        raise AmendsError(
            "name at least one area, element, product or service affected", field="scope"
        )
    with transaction.atomic():
        outage = create_with_reference(
            Outage,
            f"OUT-{started.year}-",
            title=title.strip(),
            public_summary=summary,
            cause_public=cause_public,
            cause_internal=cause_internal,
            severity=severity,
            natural_disaster=natural_disaster,
            detected_at=detected_at or started,
            started_at=started,
            etr=etr,
            next_update_by=next_promise(next_update_by, now=now, etr=etr),
            alert_source=alert_source,
            alert_key=alert_key,
            commander_id=commander_id,
        )
        for spec, item in zip(scope_items, resolved, strict=True):
            add_scope_item(outage, item, started_at=spec.started_at or started)
        if etr is not None:
            EtrChange.objects.create(
                outage=outage,
                etr=etr,
                next_update_by=outage.next_update_by,
                reason="declared",
                author=audit.actor_name(actor),
                created_at=now,
            )
        add_timeline_entry(
            outage,
            actor,
            Visibility.PUBLIC,
            summary or f"We are investigating: {outage.title}.",
            now,
            change="declare",
        )
        diff = resolve_impact(outage, at=now)
        reclassify(outage, now=now)
        audit.record(
            actor,
            "outage.declare",
            outage,
            after={
                **snapshot(outage),
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
            add_scope_item(outage, item, started_at=spec.started_at or now)
        resolve_impact(outage, at=now)
        counts = queries.impact_counts(outage)
        transaction.set_rollback(True)
    unplaced = {"exclude": 0, "postcode": 0}
    for spec, item in zip(scope_items, resolved, strict=True):
        if spec.kind == ScopeKind.POLYGON and spec.include:
            unplaced[spec.unplaced] += item.not_placed
    return dataclasses.replace(
        counts, not_placed=unplaced["exclude"], matched_by_postcode=unplaced["postcode"]
    )
