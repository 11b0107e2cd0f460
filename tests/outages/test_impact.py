"""Impact resolution: who an outage's scope covers, and their windows as the scope changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from amends.outages import queries
from amends.outages.models import EndReason, Impact, Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import (
    outage_add_scope,
    outage_declare,
    outage_remove_scope,
    outage_restore,
)
from tests.factories import Operator, build_operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def op() -> Operator:
    return build_operator()


def declare(*specs: ScopeSpec, minutes_ago: int = 30) -> Outage:
    started = timezone.now() - timedelta(minutes=minutes_ago)
    return outage_declare(
        actor="commander", title="Fault", scope_items=specs, started_at=started
    ).outage


def open_service_ids(outage: Outage) -> set[int]:
    return set(
        Impact.objects.filter(outage=outage, window_end__isnull=True).values_list(
            "service_id", flat=True
        )
    )


def test_element_covers_its_whole_subtree(op: Operator) -> None:
    exchange = declare(ScopeSpec(kind="element", element="X1"))
    assert open_service_ids(exchange) == op.service_ids("S1", "S2", "S3")
    region = declare(ScopeSpec(kind="element", element="R-NSW"))
    assert open_service_ids(region) == op.service_ids("S1", "S2", "S3", "S4", "S5")
    assert region.affected_services == 5 and region.affected_customers == 4


def test_postcode_locality_state_and_product(op: Operator) -> None:
    assert open_service_ids(declare(ScopeSpec(kind="postcode", postcode="2650"))) == op.service_ids(
        "S4", "S5"
    )
    assert open_service_ids(
        declare(ScopeSpec(kind="locality", locality="wagga wagga", state="nsw"))
    ) == op.service_ids("S4", "S5")
    assert open_service_ids(declare(ScopeSpec(kind="state", state="VIC"))) == op.service_ids(
        "S6", "S7"
    )
    assert open_service_ids(declare(ScopeSpec(kind="product", product="MOB"))) == op.service_ids(
        "S2", "S5"
    )
    narrowed = declare(ScopeSpec(kind="element", element="R-NSW", product="MOB"))
    assert open_service_ids(narrowed) == op.service_ids("S2", "S5")


def test_exclusion_spares_services(op: Operator) -> None:
    outage = declare(
        ScopeSpec(kind="state", state="NSW"),
        ScopeSpec(kind="postcode", postcode="2000", include=False),
    )
    assert open_service_ids(outage) == op.service_ids("S4", "S5")


def test_polygon_covers_services_inside_it(op: Operator) -> None:
    around_sydney_cbd = {
        "type": "Polygon",
        "coordinates": [
            [
                [151.19, -33.88],
                [151.23, -33.88],
                [151.23, -33.86],
                [151.19, -33.86],
                [151.19, -33.88],
            ]
        ],
    }
    outage = declare(ScopeSpec(kind="polygon", geojson=around_sydney_cbd))
    assert open_service_ids(outage) == op.service_ids("S1", "S2", "S3")


def test_explicit_service_list(op: Operator) -> None:
    outage = declare(ScopeSpec(kind="services", services=["S4", "S7"]))
    assert open_service_ids(outage) == op.service_ids("S4", "S7")


def test_partial_restoration_closes_exactly_the_restored_items_services(op: Operator) -> None:
    outage = declare(
        ScopeSpec(kind="element", element="X1"),
        ScopeSpec(kind="element", element="X2"),
        minutes_ago=120,
    )
    x1_item = outage.scope_items.get(element__external_id="X1")
    restored_at = timezone.now() - timedelta(minutes=10)
    change = outage_restore(actor="commander", outage=outage, item_ids=[x1_item.pk], at=restored_at)
    assert change.impact is not None and change.impact.no_longer_affected == 3
    assert open_service_ids(outage) == op.service_ids("S4", "S5")
    closed = Impact.objects.filter(outage=outage, window_end__isnull=False)
    assert {i.service_id for i in closed} == op.service_ids("S1", "S2", "S3")
    assert all(i.window_end == restored_at and i.end_reason == EndReason.RESTORED for i in closed)
    outage.refresh_from_db()
    assert outage.status == "investigating" and outage.restored_at is None
    outage_restore(actor="commander", outage=outage)
    outage.refresh_from_db()
    assert open_service_ids(outage) == set() and outage.status == "monitoring"


def test_service_covered_by_two_open_items_stays_affected(op: Operator) -> None:
    outage = declare(
        ScopeSpec(kind="element", element="X1"),
        ScopeSpec(kind="postcode", postcode="2000", product="NBN"),
    )
    element_item = outage.scope_items.get(kind="element")
    outage_restore(actor="commander", outage=outage, item_ids=[element_item.pk])
    # S1 and S3 are NBN services in 2000, still covered by the postcode item; S2 is mobile.
    assert open_service_ids(outage) == op.service_ids("S1", "S3")


def test_scope_changes_return_the_difference_and_keep_windows(op: Operator) -> None:
    outage = declare(ScopeSpec(kind="element", element="X1"), minutes_ago=90)
    first_windows = dict(
        Impact.objects.filter(outage=outage).values_list("service_id", "window_start")
    )
    change = outage_add_scope(
        actor="commander",
        outage=outage,
        items=[
            ScopeSpec(kind="postcode", postcode="2650"),
            ScopeSpec(kind="services", services=["S2"], include=False),
        ],
    )
    assert change.impact is not None
    assert (change.impact.newly_affected, change.impact.no_longer_affected) == (2, 1)
    assert open_service_ids(outage) == op.service_ids("S1", "S3", "S4", "S5")
    kept = dict(
        Impact.objects.filter(outage=outage, service_id__in=op.service_ids("S1", "S3")).values_list(
            "service_id", "window_start"
        )
    )
    assert all(kept[sid] == first_windows[sid] for sid in kept)
    exclusion = outage.scope_items.get(include=False)
    back = outage_remove_scope(actor="commander", outage=outage, item_id=exclusion.pk)
    assert back.impact is not None and back.impact.newly_affected == 1
    s2_windows = Impact.objects.filter(outage=outage, service=op.services["S2"])
    assert s2_windows.count() == 2  # the gap while excluded is never counted
    assert s2_windows.filter(window_end__isnull=False, end_reason=EndReason.SCOPE_CHANGED).exists()


def test_counts_by_segment_product_state_and_priority(op: Operator) -> None:
    outage = declare(ScopeSpec(kind="state", state="NSW"))
    counts = queries.impact_counts(outage)
    assert counts.services == 5 and counts.customers == 4
    assert counts.by_segment == {"consumer": 3, "small_business": 1}
    assert counts.by_product == {"Home Internet": 3, "Mobile": 2}
    assert counts.by_state == {"NSW": 5}
    assert counts.priority_assistance_customers == 1


def test_adding_scope_in_monitoring_is_restoring_again_and_keeps_restored_at(
    op: Operator,
) -> None:
    outage = declare(ScopeSpec(kind="element", element="X1"), minutes_ago=120)
    restored_at = timezone.now() - timedelta(minutes=20)
    outage_restore(actor="commander", outage=outage, at=restored_at)
    outage.refresh_from_db()
    assert outage.status == "monitoring" and outage.restored_at == restored_at
    change = outage_add_scope(
        actor="commander", outage=outage, items=[ScopeSpec(kind="element", element="X2")]
    )
    outage.refresh_from_db()
    assert open_service_ids(outage) == op.service_ids("S4", "S5")
    assert change.impact is not None and change.impact.newly_affected == 2
    assert outage.status == "restoring" and outage.restored_at == restored_at
    entry = outage.updates.order_by("-created_at", "-id").first()
    assert entry is not None and entry.status == "restoring"
    assert entry.message == "The outage has grown: 2 more services are out. Status: Restoring."
    outage_add_scope(  # an exclusion alone puts nobody out: still restoring, no new entry
        actor="commander",
        outage=outage,
        items=[ScopeSpec(kind="element", element="N2", include=False)],
    )
    assert outage.updates.filter(message__startswith="The outage has grown").count() == 1


def test_an_exclusion_added_in_monitoring_leaves_it_in_monitoring(op: Operator) -> None:
    outage = declare(ScopeSpec(kind="element", element="X1"), minutes_ago=120)
    outage_restore(actor="commander", outage=outage)
    outage_add_scope(
        actor="commander",
        outage=outage,
        items=[ScopeSpec(kind="postcode", postcode="2000", include=False)],
    )
    outage.refresh_from_db()
    assert outage.status == "monitoring" and open_service_ids(outage) == set()
