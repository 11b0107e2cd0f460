"""Housekeeping deletes the subscribe form's expired rate buckets and the claim form's old
attempts, only once deleting them changes no limiter's answer, and the worker's sweeper runs
it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from amends.comms import sweeper
from amends.comms.models import RateBucket
from amends.comms.subscribers import within_rate
from amends.core import housekeeping
from amends.outages.models import ClassificationChange, Impact, Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from amends.remedy.models import ClaimAttempt
from amends.remedy.services.claims import claim_attempt_allow
from tests.factories import build_operator

HOUR = timedelta(hours=1)


def _age(provider_prefix: str, by: timedelta) -> None:
    RateBucket.objects.filter(provider__startswith=provider_prefix).update(
        updated_at=timezone.now() - by
    )


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts as a process that has not run housekeeping yet."""
    monkeypatch.setattr(housekeeping, "_last_run", None)


@pytest.mark.django_db
def test_only_expired_rows_go_in_one_statement_per_table() -> None:
    now = timezone.now()
    assert within_rate("ip", "192.0.2.1", per_hour=5)
    assert within_rate("to", "a@example.com", per_hour=3)
    _age("sub:", HOUR + timedelta(seconds=1))
    assert within_rate("ip", "192.0.2.2", per_hour=5)  # used just now: kept
    RateBucket.objects.create(provider="twilio", tokens=1, updated_at=now - 10 * HOUR)
    assert claim_attempt_allow(client_address="192.0.2.1", now=now - HOUR - timedelta(minutes=1))
    assert claim_attempt_allow(client_address="192.0.2.1", now=now - timedelta(minutes=59))

    with CaptureQueriesContext(connection) as queries:
        purged = housekeeping.purge_expired(now=now)

    assert purged == housekeeping.Purged(rate_buckets=2, claim_attempts=1)
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 2  # set-based: no row is loaded into Python
    kept = set(RateBucket.objects.values_list("provider", flat=True))
    assert "twilio" in kept and len(kept) == 2  # a provider's bucket is not ours to delete
    assert list(ClaimAttempt.objects.values_list("at", flat=True)) == [now - timedelta(minutes=59)]
    assert housekeeping.purge_expired(now=now) == housekeeping.Purged(0, 0)


@pytest.mark.django_db
def test_a_purged_bucket_limits_exactly_as_the_refilled_one_would() -> None:
    assert [within_rate("ip", "192.0.2.7", per_hour=2) for _ in range(3)] == [True, True, False]
    _age("sub:", HOUR - timedelta(seconds=5))
    assert housekeeping.purge_expired().rate_buckets == 0  # not yet full: still limiting
    # ~1.99 tokens back: one take, not the two a full (or a deleted) bucket would allow.
    assert [within_rate("ip", "192.0.2.7", per_hour=2) for _ in range(2)] == [True, False]
    _age("sub:", HOUR)
    assert housekeeping.purge_expired().rate_buckets == 1
    assert [within_rate("ip", "192.0.2.7", per_hour=2) for _ in range(3)] == [True, True, False]


@pytest.mark.django_db
def test_housekeeping_runs_at_most_every_few_minutes_per_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert housekeeping.housekeeping() == housekeeping.Purged(0, 0)
    assert within_rate("ip", "192.0.2.9", per_hour=1)
    _age("sub:", 2 * HOUR)
    assert housekeeping.housekeeping() is None  # ran a moment ago
    assert RateBucket.objects.count() == 1
    monkeypatch.setattr(housekeeping, "_last_run", time.monotonic() - 301)
    assert housekeeping.housekeeping() == housekeeping.Purged(1, 0)


@pytest.mark.django_db(transaction=True)
def test_the_worker_sweeper_runs_housekeeping() -> None:
    assert within_rate("to", "b@example.com", per_hour=3)
    _age("sub:", 2 * HOUR)
    stop = sweeper.start(0.05)
    try:
        deadline = time.monotonic() + 20
        while RateBucket.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threading.enumerate():
            if thread.name == "amends-sweeper":
                thread.join(timeout=10)  # no round may outlive the test's database
    assert not RateBucket.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_sweeper_reclassifies_open_outages(monkeypatch: pytest.MonkeyPatch) -> None:
    """An outage that crosses 60 minutes untouched becomes major through the worker alone."""
    build_operator()
    outage = outage_declare(
        actor="nmc", title="Exchange fire", scope_items=[ScopeSpec(kind="state", state="VIC")]
    ).outage
    assert outage.classification == "local"
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=61)
    Outage.objects.filter(pk=outage.pk).update(started_at=start)  # an hour passes, unwritten
    Impact.objects.filter(outage=outage).update(window_start=start)
    monkeypatch.setattr(sweeper, "_last_reclassify", None)
    stop = sweeper.start(0.05)
    try:
        deadline = time.monotonic() + 20
        while not Outage.objects.filter(pk=outage.pk, classification="major").exists():
            assert time.monotonic() < deadline, "the sweeper never reclassified"
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threading.enumerate():
            if thread.name == "amends-sweeper":
                thread.join(timeout=10)
    change = ClassificationChange.objects.filter(outage=outage).last()
    assert change is not None and change.crossed_at == start + timedelta(minutes=60)
