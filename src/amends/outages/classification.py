"""Classify an outage against configurable thresholds (the shipped preset is Australia's).

The ACMA rules, as configured by default:

* **major**: at least 100,000 services, or every service in a state or territory, affected
  for an expected or actual duration of more than 60 minutes;
* **significant local**: not major, and at least 1,000 services in regional areas *each* out
  (or expected out) for 6 hours or more, or at least 250 in remote areas for 3 hours or more;
* otherwise **local**.

For major, the duration is the outage's: the longer of the expected one (ETR − start) and the
actual one so far. For significant local each service is counted by its own impact window: a
closed window by its actual length, an open one up to the later of now and the ETR (or up to
``restored_at`` once the outage is restored), so 3,000 services out for a minute and one out
for seven hours are not "3,001 services for seven hours".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, DateTimeField, DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Coalesce

from amends.core.errors import AmendsError
from amends.outages.models import Classification, Impact, Outage


@dataclass(frozen=True)
class Thresholds:
    major_services: int = 100_000
    major_minutes_over: int = 60
    regional_services: int = 1_000
    regional_minutes: int = 6 * 60
    remote_services: int = 250
    remote_minutes: int = 3 * 60
    whole_state_is_major: bool = True


PRESETS = {"au": Thresholds()}


def configured_thresholds() -> Thresholds:
    """The preset named by AMENDS_CLASSIFICATION, or thresholds read from that JSON file."""
    choice = getattr(settings, "AMENDS_CLASSIFICATION", "au")
    if choice in PRESETS:
        return PRESETS[choice]
    path = Path(choice)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AmendsError(f"AMENDS_CLASSIFICATION={choice!r}: {exc}") from None
    known = {f.name for f in fields(Thresholds)}
    unknown = set(data) - known
    if unknown:
        raise AmendsError(f"AMENDS_CLASSIFICATION: unknown keys {sorted(unknown)}")
    return Thresholds(**data)


@dataclass(frozen=True)
class Facts:
    services: int
    regional_services: int
    remote_services: int
    whole_states: list[str]
    expected_minutes: int | None
    actual_minutes: int

    @property
    def minutes(self) -> int:
        return max(self.expected_minutes or 0, self.actual_minutes)


def window_end(outage: Outage, *, now: datetime) -> datetime:
    """Where an open impact window is taken to end: ``restored_at`` once restored, else the
    later of now and the ETR (a service is "expected out" until the ETR)."""
    if outage.restored_at is not None:
        return outage.restored_at
    return max(now, outage.etr) if outage.etr is not None else now


def long_windows(outage: Outage, *, now: datetime, thresholds: Thresholds) -> dict[str, int]:
    """Distinct regional and remote services with one window at least as long as their
    area's threshold, counted in one aggregate query (same SQL shape on SQLite and PostgreSQL)."""
    span = ExpressionWrapper(
        Coalesce(F("window_end"), Value(window_end(outage, now=now), DateTimeField()))
        - F("window_start"),
        output_field=DurationField(),
    )
    rows = Impact.objects.filter(outage=outage).annotate(span=span)
    return rows.aggregate(
        regional=Count(
            "service_id",
            distinct=True,
            filter=Q(
                service__remoteness="regional",
                span__gte=timedelta(minutes=thresholds.regional_minutes),
            ),
        ),
        remote=Count(
            "service_id",
            distinct=True,
            filter=Q(
                service__remoteness="remote",
                span__gte=timedelta(minutes=thresholds.remote_minutes),
            ),
        ),
    )


def gather_facts(outage: Outage, *, now: datetime, thresholds: Thresholds) -> Facts:
    """Count the distinct services the outage has affected, by state, and the regional and
    remote ones whose own window is long enough for significant local."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.remoteness, s.state, count(DISTINCT s.id) FROM outages_impact i "
            "JOIN network_service s ON s.id = i.service_id WHERE i.outage_id = %s "
            "GROUP BY s.remoteness, s.state",
            [outage.pk],
        )
        rows = cursor.fetchall()
        by_state: dict[str, int] = {}
        for _, state, count in rows:
            by_state[state] = by_state.get(state, 0) + count
        whole: list[str] = []
        if by_state:
            marks = ", ".join(["%s"] * len(by_state))
            cursor.execute(
                "SELECT state, count(*) FROM network_service WHERE is_active = %s "
                f"AND state IN ({marks}) GROUP BY state",
                [True, *by_state],
            )
            whole = sorted(state for state, total in cursor.fetchall() if by_state[state] >= total)
    end = outage.restored_at or now
    expected = None
    if outage.etr is not None:
        expected = int((outage.etr - outage.started_at).total_seconds() // 60)
    long = long_windows(outage, now=now, thresholds=thresholds)
    return Facts(
        services=sum(by_state.values()),
        regional_services=long["regional"],
        remote_services=long["remote"],
        whole_states=whole,
        expected_minutes=expected,
        actual_minutes=max(0, int((end - outage.started_at).total_seconds() // 60)),
    )


def classify(facts: Facts, thresholds: Thresholds) -> tuple[str, str]:
    """(classification, reason in words)."""
    t = thresholds
    long_enough = facts.minutes > t.major_minutes_over
    if long_enough and facts.services >= t.major_services:
        return Classification.MAJOR, (
            f"{facts.services:,} services (≥ {t.major_services:,}) for {facts.minutes} min "
            f"(> {t.major_minutes_over})"
        )
    if long_enough and t.whole_state_is_major and facts.whole_states:
        return Classification.MAJOR, (
            f"every service in {', '.join(facts.whole_states)} for {facts.minutes} min "
            f"(> {t.major_minutes_over})"
        )
    if facts.regional_services >= t.regional_services and facts.minutes >= t.regional_minutes:
        return Classification.SIGNIFICANT_LOCAL, (
            f"{facts.regional_services:,} regional services (≥ {t.regional_services:,}) each out "
            f"for ≥ {t.regional_minutes} min"
        )
    if facts.remote_services >= t.remote_services and facts.minutes >= t.remote_minutes:
        return Classification.SIGNIFICANT_LOCAL, (
            f"{facts.remote_services:,} remote services (≥ {t.remote_services:,}) each out "
            f"for ≥ {t.remote_minutes} min"
        )
    services = f"{facts.services:,} service{'' if facts.services == 1 else 's'}"
    return Classification.LOCAL, (
        f"{services} for {facts.minutes} min: below the major and significant-local thresholds"
    )


def facts_dict(facts: Facts) -> dict[str, Any]:
    return {**asdict(facts), "minutes": facts.minutes}


def crossed_at(
    outage: Outage, facts: Facts, label: str, *, now: datetime, thresholds: Thresholds
) -> datetime:
    """When the outage actually met ``label``'s rule, for the history (regulator clocks start
    here). A rule met on elapsed time alone was met at start + its duration, or when the last
    service joined if that was later; a rule met only because of the ETR, or a fall back to
    local, is met now (when we learned it)."""
    if label == Classification.MAJOR:
        minutes, met = (
            thresholds.major_minutes_over,
            facts.actual_minutes > thresholds.major_minutes_over,
        )
    elif label == Classification.SIGNIFICANT_LOCAL:
        regional = facts.regional_services >= thresholds.regional_services
        minutes = thresholds.regional_minutes if regional else thresholds.remote_minutes
        met = facts.actual_minutes >= minutes
    else:
        return now
    if not met:
        return now
    latest = (
        Impact.objects.filter(outage=outage)
        .order_by("-window_start")
        .values_list("window_start", flat=True)
        .first()
    )
    moment = outage.started_at + timedelta(minutes=minutes)
    return min(now, max(moment, latest or moment))
