"""Per-provider token buckets shared by every worker process, kept in the database.

A worker *takes* its tokens in one statement and may leave the bucket in debt; it then waits
until the debt would have been refilled. Taking first and waiting after keeps each call to one
round trip however many workers share the bucket, and the rate holds: a worker that comes
next finds the debt and waits longer.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from amends.comms.models import RateBucket

# Seconds from the bucket's last update to the given moment, in each database's dialect.
_ELAPSED = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM (%s - updated_at)) AS double precision)",
    "sqlite": "(julianday(%s) - julianday(updated_at)) * 86400.0",
}


def acquire(provider: str, count: int, *, rate: float, burst_seconds: float = 1.0) -> float:
    """Wait until ``count`` sends are allowed at ``rate`` per second; returns seconds waited.

    A rate of 0 means unlimited. Up to ``burst_seconds`` of unused rate is saved up.
    """
    if rate <= 0:
        return 0.0
    capacity = max(float(count), rate * burst_seconds)
    now = timezone.now()
    left = _take(provider, count, rate=rate, capacity=capacity, now=now)
    if left is None:  # the provider's first send: a full bucket
        RateBucket.objects.get_or_create(
            provider=provider, defaults={"tokens": capacity, "updated_at": now}
        )
        left = _take(provider, count, rate=rate, capacity=capacity, now=now)
    if left is None or left >= 0:
        return 0.0
    pause = -left / rate
    time.sleep(pause)
    return pause


def _take(
    provider: str, count: int, *, rate: float, capacity: float, now: datetime
) -> float | None:
    """Refill the bucket for the time since its last update, take ``count``; what is left
    (negative: owed), or None when the provider has no bucket yet."""
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    moment = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A bucket is advice to the providers' rate, not a record of anything sent: after a
            # crash it may lose its last moments, so its commit need not wait for the disk.
            cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(
            f"UPDATE comms_ratebucket SET tokens = {least}(%s, tokens + "  # noqa: S608
            f"{greatest}(0, {_ELAPSED[connection.vendor]}) * %s) - %s, "
            # Never back in time: two workers' clocks are read a moment apart.
            f"updated_at = {greatest}(updated_at, %s) WHERE provider = %s RETURNING tokens",
            [capacity, moment, rate, count, moment, provider],
        )
        row = cursor.fetchone()
    return None if row is None else float(row[0])
