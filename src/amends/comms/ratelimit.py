"""Per-provider token buckets shared by every worker process, kept in the database."""

from __future__ import annotations

import time

from django.db import transaction
from django.utils import timezone

from amends.comms.models import RateBucket


def acquire(provider: str, count: int, *, rate: float, burst_seconds: float = 1.0) -> float:
    """Wait until ``count`` sends are allowed at ``rate`` per second; returns seconds waited.

    A rate of 0 means unlimited. The bucket row is locked while it is read and written, so
    every worker on every machine draws from the same budget.
    """
    if rate <= 0:
        return 0.0
    capacity = max(float(count), rate * burst_seconds)
    waited = 0.0
    while True:
        with transaction.atomic():
            now = timezone.now()
            bucket, _ = RateBucket.objects.select_for_update().get_or_create(
                provider=provider, defaults={"tokens": capacity, "updated_at": now}
            )
            elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
            tokens = min(capacity, bucket.tokens + elapsed * rate)
            if tokens >= count:
                bucket.tokens, bucket.updated_at = tokens - count, now
                bucket.save(update_fields=["tokens", "updated_at"])
                return waited
            bucket.tokens, bucket.updated_at = tokens, now
            bucket.save(update_fields=["tokens", "updated_at"])
            pause = (count - tokens) / rate
        time.sleep(pause)
        waited += pause
