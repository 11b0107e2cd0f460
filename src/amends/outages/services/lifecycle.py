"""Moving an outage through its statuses."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.outages.models import (
    Outage,
    Status,
    Visibility,
)
from amends.outages.services.common import (
    OutageChange,
    add_timeline_entry,
    reclassify,
    release_held_deliveries,
    restore_items,
    snapshot,
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


# What a move to a status tells the public (see common.public_change).
CHANGES: dict[str, str] = {Status.RESOLVED: "resolve", Status.CLOSED: "close"}


def outage_transition(
    *,
    actor: audit.Actor,
    outage: Outage,
    to: str,
    message: str = "",
    resolution_summary: str | None = None,
) -> OutageChange:
    """Move the outage to status ``to`` if its current status allows it.

    Resolving restores every scope item still open; reopening a resolved outage ("restoring")
    clears its restoration and resolution times but keeps the closed windows as they were.
    ``resolution_summary`` is what happened, in the past tense, for the messages sent once it
    is over (the public summary says what *is* happening): a person resolving (console, CLI,
    API) passes what they typed, and must type something; ``None`` is for automatic
    resolution (alert intake), which keeps whatever summary there is.
    """
    if to not in Status.values:
        raise AmendsError(f"{to!r} is not a status ({', '.join(Status.values)})", field="status")
    summary = None if resolution_summary is None else resolution_summary.strip()
    if to == Status.RESOLVED and summary == "":
        raise AmendsError(
            "resolving needs a resolution summary: what happened, in the past tense, "
            "for the messages customers get once it is over",
            field="resolution_summary",
        )
    now = timezone.now()
    with transaction.atomic():
        current = Outage.objects.select_for_update().get(pk=outage.pk)
        if to not in TRANSITIONS[current.status]:
            allowed = ", ".join(TRANSITIONS[current.status]) or "nothing"
            raise Conflict(
                f"{current.reference} is {current.status}; it can move to {allowed}", field="status"
            )
        before = snapshot(current)
        diff = None
        if to == Status.RESOLVED:
            diff = restore_items(
                current, current.scope_items.filter(restored_at__isnull=True), at=now
            )
            current.resolved_at = now
            current.restored_at = current.restored_at or now
            current.resolution_summary = summary or current.resolution_summary
        elif to == Status.CLOSED:
            current.closed_at = now
        elif current.status == Status.RESOLVED:  # reopened
            current.resolved_at = current.restored_at = None
        current.status = to
        current.save(
            update_fields=[
                "status",
                "resolved_at",
                "restored_at",
                "closed_at",
                "resolution_summary",
                "updated_at",
            ]
        )
        add_timeline_entry(
            current,
            actor,
            Visibility.PUBLIC,
            message or f"Status: {current.get_status_display()}.",
            now,
            change=CHANGES.get(to, "update"),
        )
        reclassify(current, now=now)
        after = snapshot(current)
        if to == Status.RESOLVED:
            after["resolution_summary"] = current.resolution_summary
            release_held_deliveries(current)
        audit.record(actor, f"outage.{to}", current, before=before, after=after)
    return OutageChange(current, diff)
