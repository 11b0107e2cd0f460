"""Each outage's public footprint: impact grouped by state, postcode, locality, product kind
and degree, with no customer or service in it.

Grouping a national outage's millions of impact rows is the expensive part of a publish, so
the result is kept per outage (``OutageDigest``) and recomputed only while it can still
change: the outage is open, was resolved recently (customers may report "still out"), or was
edited after the digest was taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q

from amends.outages.models import Impact, Outage
from amends.statuspage.models import OutageDigest

# [state, postcode, locality, kind, degree, services, still_affected]
DigestRow = list[Any]

_CHUNK = 500  # outage ids per grouped query (well under SQLite's parameter limit)


def _needs_refresh(
    outage: Outage, digest: OutageDigest | None, *, settled_before: datetime
) -> bool:
    if digest is None or outage.is_open or outage.resolved_at is None:
        return True
    return outage.resolved_at >= settled_before or outage.updated_at > digest.computed_at


def _aggregate(outage_ids: Sequence[int]) -> dict[int, list[DigestRow]]:
    found: dict[int, list[DigestRow]] = {pk: [] for pk in outage_ids}
    for start in range(0, len(outage_ids), _CHUNK):
        rows = (
            Impact.objects.filter(outage_id__in=outage_ids[start : start + _CHUNK])
            .values_list(
                "outage_id",
                "service__state",
                "service__postcode",
                "service__locality",
                "service__product__kind",
                "degree",
            )
            .annotate(
                services=Count("service_id", distinct=True),
                still=Count("service_id", distinct=True, filter=Q(window_end__isnull=True)),
            )
            .order_by()
        )
        for outage_id, state, postcode, locality, kind, degree, services, still in rows:
            found[outage_id].append([state, postcode, locality, kind, degree, services, still])
    for rows_of_outage in found.values():
        rows_of_outage.sort(key=lambda row: (row[0], row[1], row[2], row[3], row[4]))
    return found


def outage_digests(
    outages: Iterable[Outage], *, now: datetime, recent_days: int
) -> dict[int, list[DigestRow]]:
    """The digest rows of each outage, refreshing (and storing) the ones that may have changed."""
    by_id = {outage.pk: outage for outage in outages}
    cached = {d.outage_id: d for d in OutageDigest.objects.filter(outage_id__in=list(by_id))}
    settled_before = now - timedelta(days=recent_days)
    stale = [
        pk
        for pk, outage in by_id.items()
        if _needs_refresh(outage, cached.get(pk), settled_before=settled_before)
    ]
    fresh = _aggregate(stale)
    if fresh:
        OutageDigest.objects.bulk_create(
            [OutageDigest(outage_id=pk, rows=rows, computed_at=now) for pk, rows in fresh.items()],
            update_conflicts=True,
            unique_fields=["outage"],
            update_fields=["rows", "computed_at"],
            batch_size=200,
        )
    return {pk: fresh[pk] if pk in fresh else cached[pk].rows for pk in by_id}
