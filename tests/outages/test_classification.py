"""ACMA classification at its exact boundaries, as a pure function and on real impact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from amends.outages.classification import Facts, Thresholds, classify
from amends.outages.models import ClassificationChange
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_set_etr
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
