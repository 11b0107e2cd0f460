"""The outage lifecycle, ETR and timeline; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from amends.core.errors import AmendsError, Conflict
from amends.core.models import AuditEntry
from amends.outages.models import EtrChange, Impact, Outage, Update
from amends.outages.scope import ScopeSpec
from amends.outages.services import (
    outage_declare,
    outage_post_update,
    outage_restore,
    outage_set_etr,
    outage_transition,
)
from tests.factories import build_operator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def operator() -> None:
    build_operator()


def declare() -> Outage:
    return outage_declare(
        actor="nmc",
        title="Core routing fault",
        scope_items=[ScopeSpec(kind="state", state="NSW")],
        started_at=timezone.now() - timedelta(hours=1),
    ).outage


def test_declare_writes_reference_timeline_and_audit() -> None:
    outage = declare()
    year = outage.started_at.year
    assert outage.reference == f"OUT-{year}-0001"
    assert declare().reference == f"OUT-{year}-0002"
    assert outage.updates.get().visibility == "public"
    assert AuditEntry.objects.filter(action="outage.declare").count() == 2
    assert outage.next_update_by is not None and outage.next_update_by > timezone.now()


def test_walk_through_the_lifecycle() -> None:
    outage = declare()
    for status in ("identified", "restoring", "monitoring", "resolved", "closed"):
        outage = outage_transition(actor="nmc", outage=outage, to=status).outage
        assert outage.status == status
    assert outage.resolved_at and outage.closed_at and outage.restored_at
    assert not Impact.objects.filter(outage=outage, window_end__isnull=True).exists()
    actions = list(
        AuditEntry.objects.filter(object_id=str(outage.pk)).values_list("action", flat=True)
    )
    assert actions == [
        "outage.declare",
        "outage.identified",
        "outage.restoring",
        "outage.monitoring",
        "outage.resolved",
        "outage.closed",
    ]


def test_invalid_transitions_are_refused_and_change_nothing() -> None:
    outage = declare()
    outage_transition(actor="nmc", outage=outage, to="resolved")
    audit_before = AuditEntry.objects.count()
    with pytest.raises(Conflict, match="resolved; it can move to closed, restoring"):
        outage_transition(actor="nmc", outage=outage, to="identified")
    with pytest.raises(AmendsError, match="not a status"):
        outage_transition(actor="nmc", outage=outage, to="fixed")
    outage.refresh_from_db()
    assert outage.status == "resolved" and AuditEntry.objects.count() == audit_before


def test_restore_everything_then_resolve() -> None:
    outage = declare()
    restored = outage_restore(actor="nmc", outage=outage).outage
    assert restored.status == "monitoring"
    resolved = outage_transition(actor="nmc", outage=restored, to="resolved").outage
    assert resolved.status == "resolved"
    assert not Impact.objects.filter(outage=outage, window_end__isnull=True).exists()


def test_reopened_outage_can_be_restored_again() -> None:
    outage = declare()
    outage_transition(actor="nmc", outage=outage, to="resolved")
    reopened = outage_transition(actor="nmc", outage=outage, to="restoring").outage
    assert reopened.resolved_at is None and reopened.restored_at is None


def test_etr_history_and_promise_of_next_update() -> None:
    outage = declare()
    etr = timezone.now() + timedelta(hours=4)
    promise = timezone.now() + timedelta(hours=2)
    outage_set_etr(
        actor="nmc", outage=outage, etr=etr, next_update_by=promise, reason="Crew on site"
    )
    outage_set_etr(actor="nmc", outage=outage, etr=None, reason="Second fault found")
    changes = list(EtrChange.objects.filter(outage=outage).values_list("etr", "reason"))
    assert changes == [(etr, "Crew on site"), (None, "Second fault found")]
    outage.refresh_from_db()
    assert outage.etr is None
    messages = list(Update.objects.filter(outage=outage).values_list("message", flat=True))
    assert "Crew on site" in messages[1] and "not yet known" in messages[2]


def test_updates_are_public_or_internal() -> None:
    outage = declare()
    outage_post_update(actor="nmc", outage=outage, message="Crews are on site.")
    outage_post_update(
        actor="nmc", outage=outage, message="Vendor ticket 123", visibility="internal"
    )
    assert list(outage.updates.values_list("visibility", flat=True)) == [
        "public",
        "public",
        "internal",
    ]
    with pytest.raises(AmendsError, match="message: is required"):
        outage_post_update(actor="nmc", outage=outage, message="  ")


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (ScopeSpec(kind="element", element="NOPE"), "scope[0].element", "unknown network element"),
        (ScopeSpec(kind="state", state="XX"), "scope[0].state", "not a state"),
        (
            ScopeSpec(kind="polygon", geojson={"type": "Polygon", "coordinates": [[1, 2]]}),
            "scope[0].geojson",
            "not a valid polygon",
        ),
        (
            ScopeSpec(kind="polygon", geojson={"type": "Point", "coordinates": [1, 2]}),
            "scope[0].geojson",
            "Polygon or MultiPolygon",
        ),
        (ScopeSpec(kind="postcode", postcode="20000"), "scope[0].postcode", "4-digit"),
        (ScopeSpec(kind="services", services=["S1", "S404"]), "scope[0].services", "S404"),
        (ScopeSpec(kind="comet"), "scope[0].kind", "not a scope kind"),
    ],
)
def test_bad_scope_is_refused_naming_the_field(spec: ScopeSpec, field: str, message: str) -> None:
    with pytest.raises(AmendsError, match=message) as info:
        outage_declare(actor="nmc", title="Fault", scope_items=[spec])
    assert info.value.field == field
    assert Outage.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_etr_in_the_past_is_refused() -> None:
    with pytest.raises(AmendsError) as info:
        outage_declare(
            actor="nmc",
            title="Fault",
            etr=timezone.now() - timedelta(minutes=1),
            scope_items=[ScopeSpec(kind="state", state="NSW")],
        )
    assert info.value.field == "etr" and Outage.objects.count() == 0
    outage = declare()
    with pytest.raises(AmendsError, match="future"):
        outage_set_etr(actor="nmc", outage=outage, etr=timezone.now() - timedelta(hours=1))
    assert EtrChange.objects.count() == 0


def test_only_exclusions_is_not_an_outage() -> None:
    with pytest.raises(AmendsError, match="at least one"):
        outage_declare(
            actor="nmc",
            title="Fault",
            scope_items=[ScopeSpec(kind="state", state="NSW", include=False)],
        )
