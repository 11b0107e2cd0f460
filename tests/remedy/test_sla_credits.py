"""SLA credits for business tiers, by worked examples with the arithmetic written out, and a
policy with ``sla_credits`` saved and refused through each interface that takes one.

Operator (tests.factories): C1 consumer (S1 Home Internet $89, S2 Mobile $35), C2 small
business (S3 Home Internet $89), C3 consumer (S4), C4 consumer (S5 Mobile), C5 enterprise (S6),
C6 government (S7). Each test sets the services' SLA tiers itself (the default is standard).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from amends.core.roles import Role
from amends.core.tokens import token_create
from amends.network.models import Service
from amends.remedy.calculation import CalculationInputs, Plan
from amends.remedy.calculation.dialect import Dialect
from amends.remedy.models import Entitlement, Policy, PolicyVersion
from amends.remedy.policy import validate_policy
from amends.remedy.services.calculation import calculate
from amends.remedy.services.programs import policy_revise
from tests.factories import Operator
from tests.remedy.conftest import (
    T0,
    add_service,
    hours,
    outage_row,
    policy,
    program,
    staff,
    window,
)
from tests.remedy.test_calculation import entitlements, run

pytestmark = pytest.mark.django_db

BUSINESS_4H = {
    "restore_within_minutes": 240,
    "percent_per_block": 10,
    "block_minutes": 240,
    "max_percent": 30,
}
DOCUMENT = {
    "basis": {"kind": "pro_rata"},
    "sla_credits": {"business": BUSINESS_4H},
    "goodwill_cents": {"small_business": 2000},
}


def tiers(op: Operator, **by_service: str) -> None:
    for external_id, tier in by_service.items():
        Service.objects.filter(pk=op.services[external_id].pk).update(sla_tier=tier)


def test_business_services_restored_late_are_credited_once_per_started_block(
    analyst: User, op: Operator
) -> None:
    s = op.services
    tiers(op, S1="business", S3="business", S4="business", S6="business", S7="enterprise")
    s8 = add_service(
        op.customers["C2"], op.products["NBN"], "S8", charge_cents=15_000, sla_tier="business"
    )
    first, second = outage_row(), outage_row(title="Second fault")
    calculation, by_customer = run(
        analyst,
        DOCUMENT,
        [
            (first, s["S1"], T0, T0 + hours(5)),
            (second, s["S1"], T0 + hours(1), T0 + hours(6)),
            (first, s["S3"], T0, T0 + hours(4) + hours(1 / 60)),
            (first, s8, T0, T0 + hours(20)),
            (first, s["S4"], T0, None),
            (first, s["S6"], T0, T0 + hours(3)),
            (first, s["S7"], T0, T0 + hours(20)),
        ],
    )
    # C2, small business, two business-tier services and the 4 h target:
    # S3 out 4 h 01 min = 14,460 s: basis 8,900 × 14,460 ÷ 2,628,000 = 48.97 c; 1 minute past
    # the target is 1 started block: 10 % × $89.00 = 890 c.
    # S8 out 20 h = 72,000 s: basis 15,000 × 72,000 ÷ 2,628,000 = 410.96 c; 16 h past the
    # target is 4 blocks = 40 %, held to the 30 % maximum: 30 % × $150.00 = 4,500 c.
    # Exact sum 48.97 + 890 + 410.96 + 4,500 = 5,849.93 c, + $20 goodwill = 7,849.93 → $78.50.
    c2 = by_customer["C2"]
    assert (c2.base_cents, c2.sla_cents, c2.bonus_cents, c2.adjustment_cents) == (
        460,
        5390,
        2000,
        0,
    )
    assert c2.total_cents == 7850
    assert c2.explanation == (
        "Home Internet (S3): 4 h 01 min × $89.00/month ÷ 730 h = $0.49; "
        "SLA credit, business tier: restored 0 h 01 min after the 4 h target, "
        "1 block(s) of 4 h × 10 % of $89.00/month = $8.90; "
        "Home Internet (S8): 20 h 00 min × $150.00/month ÷ 730 h = $4.11; "
        "SLA credit, business tier: restored 16 h 00 min after the 4 h target, "
        "4 block(s) of 4 h × 10 %, at most 30 % of $150.00/month = $45.00; "
        "small-business goodwill $20.00; total $78.50"
    )
    # C1: S1's windows from the two outages overlap; merged, it was out 6 h (21,600 s), 2 h
    # past the target: 1 block, $8.90 (counted twice, 10 h would have made 2 blocks). Basis
    # 8,900 × 21,600 ÷ 2,628,000 = 73.15 c; 73.15 + 890 = 963.15 → $9.63.
    c1 = by_customer["C1"]
    assert (c1.outage_seconds, c1.base_cents, c1.sla_cents, c1.total_cents) == (
        21_600,
        73,
        890,
        963,
    )
    assert "restored 2 h 00 min after the 4 h target, 1 block(s)" in c1.explanation
    # C3: S4 still out at as_of (T0 + 10 days = 240 h): 236 h past the target, 59 blocks,
    # held to 30 %: $26.70 on top of 8,900 × 864,000 ÷ 2,628,000 = 2,926.03 c → $292.60.
    c3 = by_customer["C3"]
    assert (c3.sla_cents, c3.total_cents) == (2670, 5596)
    assert "still out 236 h 00 min after the 4 h target, 59 block(s)" in c3.explanation
    # C5: business tier but out 3 h, within the target: the basis only, no SLA line.
    # 8,900 × 10,800 ÷ 2,628,000 = 36.58 c → $0.37.
    c5 = by_customer["C5"]
    assert (c5.sla_cents, c5.total_cents) == (0, 37)
    assert "SLA credit" not in c5.explanation
    # C6: out 20 h, but the enterprise tier is not in the policy: 243.84 c → $2.44.
    c6 = by_customer["C6"]
    assert (c6.sla_cents, c6.total_cents) == (0, 244)
    assert "SLA credit" not in c6.explanation
    assert calculation.total_cents == 7850 + 963 + 5596 + 37 + 244


def test_credits_join_the_exact_sum_before_the_one_rounding(analyst: User, op: Operator) -> None:
    """A fixed basis (whole cents) and a credit with half a cent: the customer's exact sum is
    rounded once, by the policy's rule."""
    tiers(op, S3="business")
    Service.objects.filter(pk=op.services["S3"].pk).update(monthly_charge_cents=8_910)
    outage = outage_row()
    document = {
        "basis": {"kind": "fixed", "amount_cents": 1000},
        "sla_credits": {"business": {**BUSINESS_4H, "percent_per_block": 5}},
    }
    window(outage, op.services["S3"], T0, T0 + hours(5))

    def c2(rounding: str) -> Entitlement:
        made = program(analyst, [outage], policy({**document, "rounding": rounding}))
        return entitlements(calculate(analyst, made, as_of=T0 + hours(24)))["C2"]

    # 1,000 c + 1 block × 5 % × 8,910 c = 1,000 + 445.5 = 1,445.5 c: half up $14.46, down
    # $14.45 (the credit's component, rounded alone, says the same).
    half_up, down = c2("half_up"), c2("down")
    assert (half_up.sla_cents, half_up.adjustment_cents, half_up.total_cents) == (446, 0, 1446)
    assert half_up.explanation.endswith("5 % of $89.10/month = $4.46; total $14.46")
    assert (down.sla_cents, down.adjustment_cents, down.total_cents) == (445, 0, 1445)


def test_credits_follow_the_merged_islands_of_the_fixed_per_day_basis(
    analyst: User, op: Operator
) -> None:
    tiers(op, S3="business")
    first, second = outage_row(), outage_row(title="Second fault")
    document = {
        "basis": {"kind": "fixed_per_day", "amount_cents": 1034, "grace_counts": "calendar_days"},
        "sla_credits": {"business": BUSINESS_4H},
    }
    s3 = op.services["S3"]
    _, by_customer = run(
        analyst,
        document,
        [(first, s3, T0, T0 + hours(5)), (second, s3, T0 + hours(2), T0 + hours(9))],
    )
    # One island of 9 h, well inside the grace: no basis; 5 h past the target is 2 blocks,
    # 20 % × $89.00 = $17.80.
    c2 = by_customer["C2"]
    assert (c2.outage_seconds, c2.base_cents, c2.sla_cents, c2.total_cents) == (
        9 * 3600,
        0,
        1780,
        1780,
    )


def test_credits_respect_eligibility_like_the_basis(analyst: User, op: Operator) -> None:
    tiers(op, S1="business", S2="business", S3="business")
    outage = outage_row()
    s = op.services
    _, by_customer = run(
        analyst,
        {
            **DOCUMENT,
            "eligibility": {"products": ["NBN"], "exclude_customers": ["C2"]},
            "cap_cents": 1000,
        },
        [(outage, s[sid], T0, T0 + hours(12)) for sid in ("S1", "S2", "S3")],
    )
    # C1: only S1 (Home Internet) is on a covered product; S2 (Mobile) earns neither basis nor
    # credit. S1: 8,900 × 43,200 ÷ 2,628,000 = 146.30 c + 2 blocks × 10 % × $89.00 = 1,780 c,
    # capped at the policy's $10.00 per customer.
    c1 = by_customer["C1"]
    assert (c1.base_cents, c1.sla_cents, c1.adjustment_cents, c1.total_cents) == (
        146,
        1780,
        -926,
        1000,
    )
    assert "(S2)" not in c1.explanation and c1.explanation.endswith(
        "capped at $10.00; total $10.00"
    )
    # C2 is on the exclusion list: nothing, components included.
    c2 = by_customer["C2"]
    assert (c2.eligible, c2.sla_cents, c2.total_cents) == (False, 0, 0)


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_a_policy_without_credits_carries_no_tier(vendor: str) -> None:
    """No SLA credits, no cost: the statement never reads the tier."""
    inputs = CalculationInputs(
        calculation_id=1,
        outage_ids=[1, 2],
        as_of=T0 + hours(24),
        document=validate_policy({"basis": {"kind": "pro_rata"}}),
        interest_rate=None,
        excluded_customer_ids=[],
        covered_product_ids=None,
        remedy_product_ids=[],
    )
    sql, _ = Plan(inputs, Dialect(vendor)).statement()
    assert "tier" not in sql and "sla" not in sql
    with_credits = replace(inputs, document=validate_policy(DOCUMENT))
    assert "sv.sla_tier" in Plan(with_credits, Dialect(vendor)).statement()[0]


def test_a_version_saved_before_sla_credits_existed_is_the_same_document(
    analyst: User,
) -> None:
    first = policy({"basis": {"kind": "pro_rata"}})
    legacy = {k: v for k, v in first.document.items() if k != "sla_credits"}
    PolicyVersion.objects.filter(pk=first.pk).update(document=legacy)
    assert policy_revise(analyst, first.policy, {"basis": {"kind": "pro_rata"}}).pk == first.pk
    revised = policy_revise(analyst, first.policy, DOCUMENT)
    assert revised.version == 2 and revised.document["sla_credits"] == {"business": BUSINESS_4H}


# --- every interface that takes a policy -----------------------------------------------------

BAD = {**DOCUMENT, "sla_credits": {"business": {**BUSINESS_4H, "max_percent": 101}}}
BAD_FIELD = "sla_credits.business.max_percent"


def test_the_api_saves_and_refuses_credits(client: Client, analyst: User) -> None:
    token = token_create(
        actor="t", name="rem", username="ana", scopes=["remedy:read", "remedy:write"]
    )[1]

    def post(path: str, body: Any) -> Any:
        return client.post(
            f"/api/v1/remedy{path}",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

    created = post("/policies", {"name": "SLA", "document": DOCUMENT})
    assert created.status_code == 201, created.content
    policy_id = created.json()["policy_id"]
    revised = {**DOCUMENT, "sla_credits": {"enterprise": BUSINESS_4H}}
    assert post(f"/policies/{policy_id}/versions", {"document": revised}).status_code == 201
    refused = post(f"/policies/{policy_id}/versions", {"document": BAD})
    assert refused.status_code == 400 and refused.json()["field"] == BAD_FIELD
    versions = PolicyVersion.objects.filter(policy_id=policy_id).order_by("version")
    assert [v.document["sla_credits"] for v in versions] == [
        {"business": BUSINESS_4H},
        {"enterprise": BUSINESS_4H},
    ]


def test_the_console_saves_and_refuses_credits(analyst: User) -> None:
    client = Client()
    client.force_login(analyst)
    saved = client.post("/remedy/policies/new/", {"name": "SLA", "document": json.dumps(DOCUMENT)})
    assert saved.status_code == 302
    policy_ = Policy.objects.get(name="SLA")
    refused = client.post(f"/remedy/policies/{policy_.pk}/", {"document": json.dumps(BAD)})
    assert refused.status_code == 400
    assert f"{BAD_FIELD}: Input should be less than or equal to 100" in refused.content.decode()
    revised = {**DOCUMENT, "sla_credits": {"business": {**BUSINESS_4H, "max_percent": 50}}}
    assert (
        client.post(
            f"/remedy/policies/{policy_.pk}/", {"document": json.dumps(revised)}
        ).status_code
        == 302
    )
    latest = policy_.versions.order_by("-version").first()
    assert latest is not None and latest.version == 2
    assert latest.document["sla_credits"]["business"]["max_percent"] == 50


Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.django_db(transaction=True)
def test_the_cli_saves_and_refuses_credits(cli: Cli, tmp_path: Path) -> None:
    staff("ana", Role.REMEDIATION_ANALYST)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(DOCUMENT))
    created = cli("remedy", "policy", "create", "SLA", "--file", str(path), "--as", "ana")
    assert created.returncode == 0, created.stderr
    path.write_text(json.dumps(BAD))
    refused = cli("remedy", "policy", "revise", "SLA", "--file", str(path), "--as", "ana")
    assert refused.returncode == 1 and f"{BAD_FIELD}: " in refused.stderr
    path.write_text(json.dumps({**DOCUMENT, "sla_credits": {"enterprise": BUSINESS_4H}}))
    revised = cli("remedy", "policy", "revise", "SLA", "--file", str(path), "--as", "ana")
    assert revised.returncode == 0, revised.stderr
    stored = PolicyVersion.objects.filter(policy__name="SLA").order_by("version")
    assert [sorted(v.document["sla_credits"]) for v in stored] == [["business"], ["enterprise"]]
