"""The outages API: tokens and roles, declare → change → restore, problem details on bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.core.tokens import token_create
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outages_reclassify_open
from tests.factories import build_operator
from tests.outages.test_cli import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens() -> dict[str, str]:
    build_operator()
    staff_user_set(actor="t", username="nmc", role=Role.COMMANDER, password="pw-123456-x")
    staff_user_set(actor="t", username="desk", role=Role.AGENT, password="pw-123456-x")
    return {
        "commander": token_create(
            actor="t", name="nms", username="nmc", scopes=["outages:read", "outages:write"]
        )[1],
        "reader": token_create(actor="t", name="dash", username="nmc", scopes=["outages:read"])[1],
        "agent": token_create(
            actor="t", name="crm", username="desk", scopes=["outages:read", "outages:write"]
        )[1],
    }


def call(client: Client, method: str, path: str, token: str | None, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return getattr(client, method)(
        f"/api/v1{path}", data=body, content_type="application/json", headers=headers
    )


def test_declare_read_change_restore(client: Client, tokens: dict[str, str]) -> None:
    token = tokens["commander"]
    created = call(
        client,
        "post",
        "/outages",
        token,
        {
            "title": "Fibre cut Wagga",
            "cause_public": "A fibre cable was cut by roadworks.",
            "scope": [{"kind": "element", "element": "X2"}],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    reference = body["outage"]["reference"]
    assert body["impact"]["newly_affected"] == 2 and body["outage"]["affected_customers"] == 2

    impact = call(client, "get", f"/outages/{reference}/impact", tokens["reader"]).json()
    assert impact["by_segment"] == {"consumer": 2} and impact["priority_assistance_customers"] == 1

    etr = (timezone.now() + timedelta(hours=5)).isoformat()
    assert (
        call(
            client,
            "post",
            f"/outages/{reference}/etr",
            token,
            {"etr": etr, "reason": "Splicing crew on site"},
        ).status_code
        == 200
    )
    assert (
        call(client, "post", f"/outages/{reference}/status", token, {"to": "restoring"}).json()[
            "outage"
        ]["status"]
        == "restoring"
    )
    restored = call(client, "post", f"/outages/{reference}/restore", token, {}).json()
    assert restored["impact"]["no_longer_affected"] == 2
    assert restored["outage"]["status"] == "monitoring"

    listed = call(client, "get", "/outages?open=true", tokens["reader"]).json()
    assert [o["reference"] for o in listed["items"]] == [reference]
    detail = call(client, "get", f"/outages/{reference}", tokens["reader"]).json()
    assert [u["visibility"] for u in detail["updates"]] == ["public"] * 4


def test_openapi_document_is_served(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/outages" in schema["paths"]
    assert "/api/v1/intake/alertmanager" in schema["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_missing_or_bad_token_is_401(client: Client, tokens: dict[str, str]) -> None:
    response = call(client, "get", "/outages", None)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert call(client, "get", "/outages", "amd_wrong").status_code == 401


def test_scope_and_role_are_both_needed_to_change(client: Client, tokens: dict[str, str]) -> None:
    body = {"title": "x", "scope": [{"kind": "state", "state": "VIC"}]}
    read_only = call(client, "post", "/outages", tokens["reader"], body)
    assert read_only.status_code == 403 and "outages:write" in read_only.json()["detail"]
    agent = call(client, "post", "/outages", tokens["agent"], body)
    assert agent.status_code == 403 and "no role" in agent.json()["detail"]
    assert Outage.objects.count() == 0


@pytest.mark.parametrize(
    ("scope", "field"),
    [
        ({"kind": "element", "element": "NOPE"}, "scope[0].element"),
        (
            {"kind": "polygon", "geojson": {"type": "Polygon", "coordinates": "nope"}},
            "scope[0].geojson",
        ),
        ({"kind": "state", "state": "Narnia"}, "scope[0].state"),
    ],
)
def test_bad_input_is_a_400_problem_and_changes_nothing(
    client: Client, tokens: dict[str, str], scope: dict[str, Any], field: str
) -> None:
    audit_before = AuditEntry.objects.count()
    response = call(
        client, "post", "/outages", tokens["commander"], {"title": "Fault", "scope": [scope]}
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["status"] == 400 and problem["field"] == field and problem["detail"]
    assert Outage.objects.count() == 0 and AuditEntry.objects.count() == audit_before


def test_etr_in_the_past_and_malformed_json_are_400(client: Client, tokens: dict[str, str]) -> None:
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = call(
        client,
        "post",
        "/outages",
        tokens["commander"],
        {"title": "Fault", "etr": past, "scope": [{"kind": "state", "state": "VIC"}]},
    )
    assert response.status_code == 400 and response.json()["field"] == "etr"
    missing = call(client, "post", "/outages", tokens["commander"], {"scope": []})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "title"
    assert Outage.objects.count() == 0


def test_unknown_outage_and_invalid_transition(client: Client, tokens: dict[str, str]) -> None:
    assert call(client, "get", "/outages/OUT-1999-0001", tokens["reader"]).status_code == 404
    declared = call(
        client,
        "post",
        "/outages",
        tokens["commander"],
        {"title": "Fault", "scope": [{"kind": "state", "state": "VIC"}]},
    )
    reference = declared.json()["outage"]["reference"]
    missing = call(
        client, "post", f"/outages/{reference}/status", tokens["commander"], {"to": "resolved"}
    )
    assert missing.status_code == 400
    assert missing.json()["field"] == "resolution_summary"
    assert "resolution summary" in missing.json()["detail"]
    resolved = call(
        client,
        "post",
        f"/outages/{reference}/status",
        tokens["commander"],
        {"to": "resolved", "resolution_summary": "A power supply failed; we replaced it."},
    )
    assert resolved.status_code == 200
    detail = call(client, "get", f"/outages/{reference}", tokens["reader"]).json()
    assert detail["resolution_summary"] == "A power supply failed; we replaced it."
    conflict = call(
        client, "post", f"/outages/{reference}/status", tokens["commander"], {"to": "identified"}
    )
    assert conflict.status_code == 409 and "can move to" in conflict.json()["detail"]


def test_console_session_reads_the_api(client: Client, tokens: dict[str, str]) -> None:
    client.login(username="desk", password="pw-123456-x")
    assert client.get("/api/v1/outages").status_code == 200


@pytest.fixture
def everything() -> str:
    """A token of an admin that reads every list of the API."""
    build_operator()
    staff_user_set(actor="t", username="root", role=Role.ADMIN, password="pw-123456-x")
    scopes = ["outages:read", "remedy:read"]
    return token_create(actor="t", name="all", username="root", scopes=scopes)[1]


@pytest.mark.parametrize(
    ("path", "field", "detail"),
    [
        (
            "/outages?status=open",
            "status",
            "status: 'open' is not one of investigating, identified, restoring, monitoring, "
            "resolved, closed",
        ),
        ("/outages?foo=1", "foo", "unknown query parameter 'foo'"),
        ("/outages?stauts=resolved", "stauts", "unknown query parameter 'stauts'"),
        (
            "/outages?open=perhaps",
            "open",
            "open: Input should be a valid boolean, unable to interpret input",
        ),
        (
            "/remedy/programs?status=live",
            "status",
            "status: 'live' is not one of draft, calculated, in_review, approved, paying, closed",
        ),
        ("/remedy/programs?limit=5&page=2", "page", "unknown query parameter 'page'"),
        (
            "/claims?status=opened",
            "status",
            "status: 'opened' is not one of submitted, assessing, pending_approval, approved, "
            "partly_approved, declined, paid, open",
        ),
        ("/claims?customer=C1", "customer", "unknown query parameter 'customer'"),
    ],
)
def test_a_query_the_api_does_not_understand_is_a_problem_naming_it(
    client: Client, everything: str, path: str, field: str, detail: str
) -> None:
    """Answering ``?status=open`` with an empty list (or ``?stauts=`` with everything) would
    answer a question nobody asked; the caller gets 400 and the parameter at fault."""
    response = call(client, "get", path, everything)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"] == detail
    assert problem.get("field", problem.get("errors", [{}])[0].get("field")) == field


def test_known_filters_still_filter(client: Client, everything: str) -> None:
    listed = call(client, "get", "/outages?status=investigating&open=true&limit=5", everything)
    assert listed.status_code == 200 and listed.json()["count"] == 0
    assert call(client, "get", "/claims?status=open", everything).status_code == 200
    assert call(client, "get", "/remedy/programs?status=draft", everything).status_code == 200


def test_classification_history_in_api_cli_and_console(
    client: Client, tokens: dict[str, str]
) -> None:
    """A pass at start + 61 min: the history shows major crossed at start + 60 min, the same in
    the API, ``amends outage show --json`` and the console page."""
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    outage = outage_declare(
        actor="nmc",
        title="Exchange fire",
        started_at=start,
        scope_items=[ScopeSpec(kind="state", state="VIC")],
    ).outage
    outages_reclassify_open(now=start + timedelta(minutes=61))
    crossed = (start + timedelta(minutes=60)).isoformat().replace("+00:00", "Z")
    body = call(client, "get", f"/outages/{outage.reference}", tokens["reader"]).json()
    history = body["classification_history"]
    assert [h["classification"] for h in history] == ["local", "major"]
    assert history[1]["reason"] == "every service in VIC for 61 min (> 60)"
    assert history[1]["crossed_at"].replace("+00:00", "Z") == crossed
    shown = json.loads(run("show", outage.reference, "--json"))
    assert shown["classification_history"][1]["crossed_at"].replace("+00:00", "Z") == crossed
    client.login(username="nmc", password="pw-123456-x")
    page = client.get(f"/outages/{outage.reference}/").content.decode()
    assert 'id="classification-history"' in page
    assert "every service in VIC for 61 min (&gt; 60)" in page
    at = timezone.localtime(start + timedelta(minutes=60))
    assert f'<time datetime="{at.isoformat()}">{at:%a} {at.day} {at:%b, %H:%M}</time>' in page
