"""Deleting the public forms' rate-limit bookkeeping once it no longer limits anyone.

The subscribe form keeps a token bucket per client and per address (``RateBucket`` rows named
``sub:…``, see ``comms.subscribers.within_rate``) and the claim form one row per submission
(``ClaimAttempt``). Nothing else deletes a bucket, and a claim attempt is only purged when
someone submits a claim, so after a flood of requests the rows would stay for ever.

A row is deleted only once it is *equivalent to no row*: a bucket untouched for an hour has
refilled (it refills at ``per_hour`` tokens an hour up to ``per_hour``), and a missing bucket
starts full; a claim attempt older than the claim limit's window is no longer counted. So the
deletes change no answer any limiter gives, which is also why they are logged rather than
written to the audit log: no one's data or any decision changes, only expired counters go.

The worker's sweeper calls ``housekeeping()`` every round; it does the work at most every
``HOUSEKEEPING_EVERY`` per process (several workers repeating it is harmless).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from amends.comms.models import RateBucket
from amends.remedy.models import ClaimAttempt
from amends.remedy.services.claims import RATE_WINDOW as CLAIM_WINDOW

log = logging.getLogger(__name__)

SUBSCRIBE_BUCKETS = "sub:"  # the prefix of the subscribe form's bucket names
BUCKET_REFILL = timedelta(hours=1)  # time for an emptied hourly bucket to be full again
HOUSEKEEPING_EVERY = 300.0  # seconds

_last_run: float | None = None


@dataclass(frozen=True)
class Purged:
    rate_buckets: int
    claim_attempts: int


def purge_expired(*, now: datetime | None = None) -> Purged:
    """Delete (one statement per table) the rows that no longer limit anyone at ``now``."""
    now = now or timezone.now()
    buckets, _ = RateBucket.objects.filter(
        provider__startswith=SUBSCRIBE_BUCKETS, updated_at__lte=now - BUCKET_REFILL
    ).delete()
    attempts, _ = ClaimAttempt.objects.filter(at__lt=now - CLAIM_WINDOW).delete()
    purged = Purged(rate_buckets=buckets, claim_attempts=attempts)
    if buckets or attempts:
        log.info(
            "housekeeping: %d subscribe rate buckets and %d claim attempts deleted",
            buckets,
            attempts,
        )
    return purged


def housekeeping() -> Purged | None:
    """``purge_expired()`` if this process has not run it in the last ``HOUSEKEEPING_EVERY``
    seconds, else nothing (None): the sweeper calls this every few seconds."""
    global _last_run
    started = time.monotonic()
    if _last_run is not None and started - _last_run < HOUSEKEEPING_EVERY:
        return None
    _last_run = started
    return purge_expired()
