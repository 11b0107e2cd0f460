"""The policies and programs API: tokens and roles, policy → program → calculate → diff, and
problem details naming the field on bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from amends.core.roles import Role
from amends.core.tokens import token_create
from amends.outages.models import Impact, Outage
from amends.remedy.models import PolicyVersion, Program
from tests.factories import Operator
from tests.remedy.conftest import T0, staff

pytestmark = pytest.mark.django_db
SCOPES = ["remedy:read", "remedy:write"]


@pytest.fixture
def tokens(analyst: User) -> dict[str, str]:
    staff("desk", Role.AGENT)
    return {
        "analyst": token_create(actor="t", name="rem", username="ana", scopes=SCOPES)[1],
        "reader": token_create(actor="t", name="ro", username="ana", scopes=SCOPES[:1])[1],
        "agent": token_create(actor="t", name="crm", username="desk", scopes=SCOPES)[1],
    }


def call(client: Client, method: str, path: str, token: str, body: Any = None) -> Any:
    return getattr(client, method)(
        f"/api/v1/remedy{path}",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_policy_program_calculate_diff(
    client: Client, tokens: dict[str, str], fourteen_hour_outage: Outage, op: Operator
) -> None:
    token = tokens["analyst"]
    presets = call(client, "get", "/policies/presets", token).json()
    assert {p["name"] for p in presets} == {
        "pro_rata",
        "ny_psc",
        "ofcom_auto",
        "ofgem_gss",
        "vic_gsl",
    }
    created = call(
        client,
        "post",
        "/policies",
        token,
        {"name": "Credit", "preset": "pro_rata", "document": None},
    )
    assert created.status_code == 201, created.content
    policy_id = created.json()["policy_id"]
    revised = call(
        client,
        "post",
        f"/policies/{policy_id}/versions",
        token,
        {"document": {"basis": {"kind": "pro_rata"}, "goodwill_cents": {"small_business": 2000}}},
    )
    assert revised.status_code == 201 and revised.json()["version"] == 2
    program = call(
        client,
        "post",
        "/programs",
        token,
        {"name": "Routing fault", "outages": [fourteen_hour_outage.reference], "policy": "Credit"},
    )
    assert program.status_code == 201, program.content
    reference = program.json()["reference"]
    assert program.json()["policy_version"] == 2 and program.json()["status"] == "draft"

    as_of = (T0 + timedelta(days=2)).isoformat()
    first = call(client, "post", f"/programs/{reference}/calculate", token, {"as_of": as_of})
    assert first.status_code == 201
    assert (first.json()["version"], first.json()["total_cents"]) == (1, 2995)
    Impact.objects.filter(service=op.services["S4"]).update(window_end=T0 + timedelta(hours=20))
    call(client, "post", f"/programs/{reference}/calculate", token, {"as_of": as_of})
    diff = call(client, "get", f"/programs/{reference}/diff?old=1&new=2", token).json()
    assert (diff["changed"], diff["unchanged"], diff["same_inputs"]) == (1, 5, False)
    assert diff["largest"][0]["customer"] == "C3"
    rows = call(
        client, "get", f"/programs/{reference}/calculations/2/entitlements?customer=C2", token
    ).json()
    assert rows["count"] == 1
    assert rows["items"][0]["explanation"].endswith("small-business goodwill $20.00; total $21.72")
    detail = call(client, "get", f"/programs/{reference}", token).json()
    assert [c["version"] for c in detail["calculations"]] == [2, 1]
    listing = call(client, "get", "/programs", token).json()
    assert listing["items"][0]["reference"] == reference


def test_a_refused_policy_names_its_field(client: Client, tokens: dict[str, str]) -> None:
    response = call(
        client,
        "post",
        "/policies",
        tokens["analyst"],
        {"name": "Credit", "document": {"basis": {"kind": "tiered", "tiers": []}}},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == "basis.tiers"
    assert not PolicyVersion.objects.exists()


def test_unknown_outage_and_policy_are_named(
    client: Client, tokens: dict[str, str], fourteen_hour_outage: Outage
) -> None:
    token = tokens["analyst"]
    call(client, "post", "/policies", token, {"name": "Credit", "preset": "vic_gsl"})
    body = {
        "name": "X",
        "outages": [fourteen_hour_outage.reference, "OUT-1999-0001"],
        "policy": "Credit",
    }
    assert call(client, "post", "/programs", token, body).json()["field"] == "outages[1]"
    body = {"name": "X", "outages": [fourteen_hour_outage.reference], "policy": "Credit:9"}
    missing = call(client, "post", "/programs", token, body)
    assert missing.status_code == 404 and missing.json()["field"] == "policy"
    assert not Program.objects.exists()


def test_scopes_and_roles(client: Client, tokens: dict[str, str]) -> None:
    body = {"name": "Credit", "preset": "pro_rata"}
    assert call(client, "post", "/policies", tokens["reader"], body).status_code == 403
    assert call(client, "post", "/policies", tokens["agent"], body).status_code == 403
    assert call(client, "get", "/policies", tokens["reader"]).status_code == 200
    assert not PolicyVersion.objects.exists()
