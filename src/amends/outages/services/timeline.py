"""The ETR, timeline updates and restoration proposals from monitoring."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.outages.models import (
    EtrChange,
    Outage,
    Status,
    Update,
    Visibility,
)
from amends.outages.services.common import (
    OutageChange,
    add_timeline_entry,
    check_future,
    locked_open,
    next_promise,
    reclassify,
)


def outage_set_etr(
    *,
    actor: audit.Actor,
    outage: Outage,
    etr: datetime | None,
    next_update_by: datetime | None = None,
    reason: str = "",
) -> OutageChange:
    """Change the estimated restoration time (None: unknown) and promise the next update.

    A blank ``next_update_by`` keeps the published promise while it is ahead (see
    ``next_promise``): the public was told "next update by 07:00", and a new ETR is no reason
    to tell them something else without saying so."""
    now = timezone.now()
    check_future(etr, now=now, field="etr")
    check_future(next_update_by, now=now, field="next_update_by")
    with transaction.atomic():
        outage = locked_open(outage)
        before = {"etr": outage.etr, "next_update_by": outage.next_update_by}
        outage.etr = etr
        outage.next_update_by = next_promise(
            next_update_by, now=now, etr=etr, keep=outage.next_update_by
        )
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
        add_timeline_entry(
            outage,
            actor,
            Visibility.PUBLIC,
            f"Estimated restoration: {when}." + (f" {reason}" if reason else ""),
            now,
            change="etr",
        )
        reclassify(outage, now=now)
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
    """Add a timeline entry; a public one is the update that was promised, so it also makes
    the next promise (``next_update_by``, or by default the earlier of six hours and the ETR)."""
    now = timezone.now()
    if not message.strip():
        raise AmendsError("is required", field="message")
    if visibility not in Visibility.values:
        raise AmendsError(f"{visibility!r} is not public or internal", field="visibility")
    check_future(next_update_by, now=now, field="next_update_by")
    with transaction.atomic():
        outage = Outage.objects.select_for_update().get(pk=outage.pk)
        if outage.status == Status.CLOSED:
            raise Conflict(f"{outage.reference} is closed")
        update = add_timeline_entry(outage, actor, visibility, message.strip(), now)
        reclassify(outage, now=now)  # an update is a look at the outage: time may have passed
        if visibility == Visibility.PUBLIC:
            outage.next_update_by = next_promise(next_update_by, now=now, etr=outage.etr)
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
        outage = locked_open(outage)
        outage.restoration_proposed_at = now
        outage.save(update_fields=["restoration_proposed_at", "updated_at"])
        add_timeline_entry(
            outage,
            actor,
            Visibility.INTERNAL,
            f"{source} reports the fault cleared. Confirm restoration when verified.",
            now,
        )
        audit.record(actor, "outage.restoration_proposed", outage, after={"source": source})
    return outage
