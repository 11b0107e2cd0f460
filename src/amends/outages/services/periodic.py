"""Keeping classification current as time passes, not only when someone writes.

An outage crosses "more than 60 minutes" or "6 hours" with nobody touching it, so the worker
calls ``outages_reclassify_open`` every minute. It reads the open outages in one query and
recomputes each with a fixed number of aggregate queries (never a loop over impact rows); a
label change is recorded with the moment the threshold was actually crossed, not this pass's.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from amends.core import audit
from amends.outages.models import OPEN_STATUSES, Outage
from amends.outages.services.common import reclassify


def outages_reclassify_open(*, now: datetime | None = None) -> int:
    """Recompute every open outage's classification at ``now``; returns how many changed."""
    now = now or timezone.now()
    changed = 0
    for outage in Outage.objects.filter(status__in=OPEN_STATUSES):
        with transaction.atomic():
            before = outage.classification
            reclassify(outage, now=now)
            if outage.classification != before:
                changed += 1
                audit.record(
                    None,
                    "outage.classified",
                    outage,
                    before={"classification": before},
                    after={"classification": outage.classification},
                )
    return changed
