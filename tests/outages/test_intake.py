"""Alertmanager (v4) and generic intake: firing → update → resolved, with repeated deliveries."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.core.tokens import token_create
from amends.outages.models import Impact, Outage, Update
from tests.factories import build_operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def token() -> str:
    build_operator()
    staff_user_set(actor="t", username="nms", role=Role.VIEWER, password="pw-123456-x")
    return token_create(actor="t", name="alertmanager", username="nms", scopes=["intake"])[1]


def alert(status: str, **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "LinkDown", **labels},
        "annotations": {},
        "startsAt": "2026-01-01T00:00:00Z",
        "fingerprint": str(labels),
    }


def payload(status: str, *alerts: dict[str, Any], key: str = '{}:{alertname="LinkDown"}') -> Any:
    return {
        "version": "4",
        "groupKey": key,
        "status": status,
        "receiver": "amends",
        "groupLabels": {"alertname": "LinkDown"},
        "commonLabels": {"alertname": "LinkDown", "severity": "critical"},
        "commonAnnotations": {"summary": "Exchange link down"},
        "alerts": list(alerts),
    }


def post(client: Client, token: str, body: Any, path: str = "alertmanager") -> Any:
    return client.post(
        f"/api/v1/intake/{path}",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_firing_updating_resolving_with_repeats(client: Client, token: str) -> None:
    first = payload("firing", alert("firing", element="X1"))
    assert post(client, token, first).json()["action"] == "declared"
    assert post(client, token, first).json() == {
        "action": "unchanged",
        "outage": Outage.objects.get().reference,
    }
    wider = payload("firing", alert("firing", element="X1"), alert("firing", postcode="2650"))
    assert post(client, token, wider).json()["action"] == "updated"
    assert post(client, token, wider).json()["action"] == "unchanged"
    outage = Outage.objects.get()
    assert outage.title == "Exchange link down" and outage.severity == "critical"
    assert outage.affected_services == 5 and outage.scope_items.count() == 2

    resolved = payload(
        "resolved", alert("resolved", element="X1"), alert("resolved", postcode="2650")
    )
    assert post(client, token, resolved).json()["action"] == "restoration_proposed"
    assert post(client, token, resolved).json()["action"] == "unchanged"
    outage.refresh_from_db()
    assert outage.restoration_proposed_at is not None and outage.status == "investigating"
    assert Impact.objects.filter(outage=outage, window_end__isnull=True).count() == 5
    internal = Update.objects.filter(outage=outage, visibility="internal")
    assert internal.count() == 1 and "Confirm restoration" in internal.get().message
    assert Outage.objects.count() == 1


@override_settings(AMENDS_INTAKE_AUTO_RESTORE=True)
def test_auto_restore_when_configured(client: Client, token: str) -> None:
    post(client, token, payload("firing", alert("firing", state="VIC")))
    assert (
        post(client, token, payload("resolved", alert("resolved", state="VIC"))).json()["action"]
        == "restored"
    )
    outage = Outage.objects.get()
    assert outage.status == "monitoring"
    assert not Impact.objects.filter(outage=outage, window_end__isnull=True).exists()


def test_new_group_after_the_outage_is_resolved_opens_a_new_one(client: Client, token: str) -> None:
    from amends.outages.services import outage_transition

    post(client, token, payload("firing", alert("firing", element="X1")))
    outage_transition(actor="nmc", outage=Outage.objects.get(), to="resolved")
    assert (
        post(client, token, payload("firing", alert("firing", element="X1"))).json()["action"]
        == "declared"
    )
    assert Outage.objects.count() == 2


def test_unmappable_or_unknown_labels_are_400(client: Client, token: str) -> None:
    no_scope = post(client, token, payload("firing", alert("firing", instance="10.0.0.1")))
    assert no_scope.status_code == 400 and no_scope.json()["field"] == "labels"
    unknown = post(client, token, payload("firing", alert("firing", element="X99")))
    assert unknown.status_code == 400 and "X99" in unknown.json()["detail"]
    wrong_version = post(
        client, token, {**payload("firing", alert("firing", element="X1")), "version": "3"}
    )
    assert wrong_version.status_code == 400
    assert Outage.objects.count() == 0


def test_intake_needs_the_intake_scope(client: Client, token: str) -> None:
    other = token_create(actor="t", name="dash", username="nms", scopes=["outages:read"])[1]
    response = post(client, other, payload("firing", alert("firing", element="X1")))
    assert response.status_code == 403


def test_generic_trigger_and_resolve(client: Client, token: str) -> None:
    event = {
        "source": "pagerduty",
        "dedup_key": "P123",
        "event_action": "trigger",
        "summary": "Mobile core degraded",
        "scope": [{"kind": "product", "product": "MOB", "degree": "degraded"}],
    }
    assert post(client, token, event, "generic").json()["action"] == "declared"
    assert post(client, token, event, "generic").json()["action"] == "unchanged"
    outage = Outage.objects.get()
    assert set(Impact.objects.filter(outage=outage).values_list("degree", flat=True)) == {
        "degraded"
    }
    resolve = {**event, "event_action": "resolve"}
    assert post(client, token, resolve, "generic").json()["action"] == "restoration_proposed"
    bad = post(client, token, {**event, "event_action": "acknowledge"}, "generic")
    assert bad.status_code == 400 and bad.json()["field"] == "event_action"
