"""ACMA classification at its exact boundaries, as a pure function and on real impact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from amends.outages.classification import Facts, Thresholds, classify
from amends.outages.models import ClassificationChange
from amends.outages.scope import ScopeSpec
from amends.outages.services import (
    outage_declare,
    outage_post_update,
    outage_restore,
    outage_set_etr,
    outages_reclassify_open,
)
from tests.factories import Operator, build_operator, bulk_services

AU = Thresholds()


def facts(
    services: int = 0,
    minutes: int = 0,
    *,
    regional: int = 0,
    remote: int = 0,
    whole_states: list[str] | None = None,
    expected: int | None = None,
) -> Facts:
    return Facts(
        services=services,
        regional_services=regional,
        remote_services=remote,
        whole_states=whole_states or [],
        expected_minutes=expected,
        actual_minutes=minutes,
    )


@pytest.mark.parametrize(
    ("services", "minutes", "expected"),
    [
        (100_000, 61, "major"),
        (99_999, 61, "local"),
        (100_000, 60, "local"),  # "more than 60 minutes"
        (100_000, 59, "local"),
        (2_000_000, 61, "major"),
    ],
)
def test_major_by_number_of_services(services: int, minutes: int, expected: str) -> None:
    assert classify(facts(services, minutes), AU)[0] == expected


def test_expected_duration_counts_as_much_as_actual() -> None:
    assert classify(facts(100_000, 5, expected=61), AU)[0] == "major"
    assert classify(facts(100_000, 5, expected=59), AU)[0] == "local"


def test_a_whole_state_is_major_whatever_its_size() -> None:
    label, reason = classify(facts(900, 61, whole_states=["NT"]), AU)
    assert label == "major" and "every service in NT" in reason
    assert classify(facts(900, 60, whole_states=["NT"]), AU)[0] == "local"


@pytest.mark.parametrize(
    ("regional", "remote", "minutes", "expected"),
    [
        (1_000, 0, 360, "significant_local"),
        (999, 0, 360, "local"),
        (1_000, 0, 359, "local"),
        (0, 250, 180, "significant_local"),
        (0, 249, 180, "local"),
        (0, 250, 179, "local"),
    ],
)
def test_significant_local(regional: int, remote: int, minutes: int, expected: str) -> None:
    result = facts(regional + remote, minutes, regional=regional, remote=remote)
    assert classify(result, AU)[0] == expected


@pytest.mark.django_db
@pytest.mark.slow
def test_hundred_thousand_real_services_and_one_less() -> None:
    op: Operator = build_operator()
    bulk_services(
        100_000,
        customer=op.customers["C1"],
        product=op.products["NBN"],
        postcode="2999",
        state="NSW",
    )
    started = timezone.now() - timedelta(minutes=61)
    outage = outage_declare(
        actor="nmc",
        title="Fibre cut",
        started_at=started,
        scope_items=[ScopeSpec(kind="postcode", postcode="2999")],
    ).outage
    assert outage.affected_services == 100_000
    assert outage.classification == "major"
    smaller = outage_declare(
        actor="nmc",
        title="Fibre cut",
        started_at=started,
        scope_items=[
            ScopeSpec(kind="postcode", postcode="2999"),
            ScopeSpec(kind="services", services=["BULK-1"], include=False),
        ],
    ).outage
    assert smaller.affected_services == 99_999
    assert smaller.classification == "local"
    recent = outage_declare(
        actor="nmc",
        title="Fibre cut",
        scope_items=[ScopeSpec(kind="postcode", postcode="2999")],
        started_at=timezone.now() - timedelta(minutes=59),
    ).outage
    assert recent.affected_services == 100_000
    assert recent.classification == "local"  # not yet more than 60 minutes


@pytest.mark.django_db
def test_reclassified_on_etr_change_with_history() -> None:
    op = build_operator()
    outage = outage_declare(
        actor="nmc", title="Exchange fire", scope_items=[ScopeSpec(kind="state", state="VIC")]
    ).outage
    assert outage.classification == "local"  # just started, ETR unknown
    # Every VIC service is affected: once more than an hour is expected, it is major.
    outage_set_etr(actor="nmc", outage=outage, etr=timezone.now() + timedelta(hours=3))
    outage.refresh_from_db()
    assert outage.classification == "major"
    history = list(
        ClassificationChange.objects.filter(outage=outage).values_list("classification", flat=True)
    )
    assert history == ["local", "major"]
    assert op.services["S6"].state == "VIC"


@pytest.mark.django_db
def test_periodic_pass_records_the_moment_sixty_minutes_were_crossed() -> None:
    build_operator()
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    outage = outage_declare(
        actor="nmc",
        title="Exchange fire",
        started_at=start,
        scope_items=[ScopeSpec(kind="state", state="VIC")],
    ).outage
    assert outage.classification == "local"
    # Nobody writes; the worker's pass runs at start + 61 min.
    assert outages_reclassify_open(now=start + timedelta(minutes=61)) == 1
    outage.refresh_from_db()
    assert outage.classification == "major"
    last = ClassificationChange.objects.filter(outage=outage).last()
    assert last is not None
    assert last.crossed_at == start + timedelta(minutes=60)
    assert last.created_at == start + timedelta(minutes=61)
    assert last.reason == "every service in VIC for 61 min (> 60)"
    # A later pass changes nothing and keeps the crossing moment; the reason stays current.
    assert outages_reclassify_open(now=start + timedelta(minutes=90)) == 0
    last.refresh_from_db()
    assert last.crossed_at == start + timedelta(minutes=60)
    assert last.reason == "every service in VIC for 90 min (> 60)"
    assert ClassificationChange.objects.filter(outage=outage).count() == 2


def _regional(op: Operator, count: int, prefix: str, postcode: str = "2880") -> None:
    bulk_services(
        count,
        customer=op.customers["C1"],
        product=op.products["NBN"],
        postcode=postcode,
        state="NSW",
        remoteness="regional",
        prefix=prefix,
    )


@pytest.mark.django_db
def test_significant_local_counts_each_services_own_window() -> None:
    op = build_operator()
    _regional(op, 3_000, "SHORT")
    _regional(op, 1, "LONG", postcode="2881")
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=2)
    outage = outage_declare(
        actor="nmc",
        title="Power loss",
        started_at=start,
        scope_items=[
            ScopeSpec(kind="postcode", postcode="2880"),
            ScopeSpec(kind="postcode", postcode="2881"),
        ],
    ).outage
    # 3,000 come back after a minute; one has a seven-hour ETR.
    shorts = outage.scope_items.get(postcode="2880")
    outage_restore(
        actor="nmc", outage=outage, item_ids=[shorts.pk], at=start + timedelta(minutes=1)
    )
    outage_set_etr(actor="nmc", outage=outage, etr=start + timedelta(hours=7))
    outage.refresh_from_db()
    assert outage.classification == "local"
    last = ClassificationChange.objects.filter(outage=outage).last()
    # Every service affected is still named, but none of the short ones counts towards the rule.
    assert last is not None
    assert last.reason == (
        "3,001 services for 420 min: below the major and significant-local thresholds"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("count", "expected"), [(1_000, "significant_local"), (999, "local")])
def test_significant_local_boundary_of_services_each_out_six_hours(
    count: int, expected: str
) -> None:
    op = build_operator()
    _regional(op, count, "REG")
    start = timezone.now().replace(microsecond=0)
    outage = outage_declare(
        actor="nmc",
        title="Power loss",
        started_at=start,
        scope_items=[ScopeSpec(kind="postcode", postcode="2880")],
    ).outage
    assert outage.classification == "local"
    outages_reclassify_open(now=start + timedelta(hours=6))
    outage.refresh_from_db()
    assert outage.classification == expected
    if expected == "significant_local":
        last = ClassificationChange.objects.filter(outage=outage).last()
        assert last is not None
        assert last.crossed_at == start + timedelta(hours=6)
        assert last.reason == "1,000 regional services (≥ 1,000) each out for ≥ 360 min"


@pytest.mark.django_db
def test_a_timeline_update_recomputes_with_the_actual_crossing_time() -> None:
    build_operator()
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=75)
    outage = outage_declare(
        actor="nmc",
        title="Exchange fire",
        started_at=start,
        scope_items=[ScopeSpec(kind="state", state="VIC")],
    ).outage
    # Declared late: it was already major; the history says since start + 60 min.
    first = ClassificationChange.objects.get(outage=outage)
    assert first.classification == "major"
    assert first.crossed_at == start + timedelta(minutes=60)
    ClassificationChange.objects.filter(outage=outage).update(reason="stale")
    outage_post_update(actor="nmc", outage=outage, message="Crews on site.")
    first.refresh_from_db()
    assert first.reason.startswith("every service in VIC for 75 min")
