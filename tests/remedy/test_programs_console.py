"""The programs and policies console from three angles (a remediation analyst who writes, a
viewer who reads, a stranger), the policy editor refusing a document with the field named, and
an analyst's whole path in Chromium: policy from a preset, program, calculate twice, compare."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from playwright.sync_api import Page, expect, sync_playwright

from amends.core.roles import Role
from amends.outages.models import Impact, Outage
from amends.remedy.models import Calculation, Policy, PolicyVersion, Program
from amends.remedy.services.calculation import calculate
from tests.e2e.test_console_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.factories import Operator, build_operator
from tests.remedy.conftest import PASSWORD, T0, outage_row, policy, program, staff, window

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def made(analyst: User, fourteen_hour_outage: Outage) -> Program:
    """A program over the 14-hour outage, calculated once."""
    made = program(analyst, [fourteen_hour_outage], policy(name="Pro rata"))
    calculate(analyst, made, as_of=T0 + timedelta(days=2))
    return made


def test_a_stranger_is_sent_to_sign_in_and_a_roleless_user_refused(made: Program) -> None:
    response = Client().get("/remedy/")
    assert response.status_code == 302 and "/login" in response["Location"]
    nobody = User.objects.create_user("nobody", password=PASSWORD)
    assert signed_in(nobody).get(f"/remedy/programs/{made.reference}/").status_code == 403


def test_a_viewer_reads_everything_and_changes_nothing(viewer: User, made: Program) -> None:
    client = signed_in(viewer)
    listing = client.get("/remedy/")
    assert listing.status_code == 200
    assert made.reference in listing.content.decode()
    assert "New program" not in listing.content.decode()
    detail = client.get(f"/remedy/programs/{made.reference}/").content.decode()
    assert "v1" in detail and "$9.95" in detail and 'id="calculate"' not in detail
    page = client.get(f"/remedy/programs/{made.reference}/calculations/1/").content.decode()
    assert "small-business goodwill" not in page  # the default policy here has none
    assert "Home Internet (S3): 14 h 05 min × $89.00/month ÷ 730 h = $1.72; total $1.72" in page
    assert client.get("/remedy/policies/").status_code == 200
    assert client.post(f"/remedy/programs/{made.reference}/calculate/").status_code == 403
    assert client.get("/remedy/programs/new/").status_code == 403
    assert client.get("/remedy/policies/new/").status_code == 403
    version = PolicyVersion.objects.get()
    assert client.post(f"/remedy/policies/{version.policy_id}/", {}).status_code == 403
    assert Calculation.objects.count() == 1 and PolicyVersion.objects.count() == 1


def test_the_editor_starts_from_a_preset_and_names_the_refused_field(analyst: User) -> None:
    client = signed_in(analyst)
    page = client.get("/remedy/policies/new/?preset=ofgem_gss").content.decode()
    assert "fixed_after_hours" in page and "19000" in page
    bad = json.dumps({"basis": {"kind": "fixed", "amount_cents": "ten"}})
    refused = client.post(
        "/remedy/policies/new/", {"name": "Goodwill", "document": bad, "preset": "ofgem_gss"}
    )
    assert refused.status_code == 400
    assert "basis.amount_cents: Input should be a valid integer" in refused.content.decode()
    not_json = client.post("/remedy/policies/new/", {"name": "Goodwill", "document": "{basis"})
    assert not_json.status_code == 400 and "is not JSON" in not_json.content.decode()
    assert not Policy.objects.exists()

    good = json.dumps({"basis": {"kind": "fixed", "amount_cents": 1000}})
    saved = client.post("/remedy/policies/new/", {"name": "Goodwill", "document": good})
    policy_ = Policy.objects.get(name="Goodwill")
    assert saved.status_code == 302 and saved["Location"] == f"/remedy/policies/{policy_.pk}/"
    better = json.dumps({"basis": {"kind": "fixed", "amount_cents": 1500}})
    revised = client.post(f"/remedy/policies/{policy_.pk}/", {"document": better})
    assert revised.status_code == 302
    assert list(policy_.versions.order_by("version").values_list("version", flat=True)) == [1, 2]
    shown = client.get(f"/remedy/policies/{policy_.pk}/?version=1").content.decode()
    assert "&quot;amount_cents&quot;: 1000" in shown


def test_the_live_check_says_what_is_wrong(analyst: User) -> None:
    client = signed_in(analyst)
    answer = client.post("/remedy/policies/check/", {"document": '{"basis": {"kind": "x"}}'})
    assert "basis.kind: must be one of pro_rata" in answer.content.decode()
    fine = client.post("/remedy/policies/check/", {"document": '{"basis": {"kind": "pro_rata"}}'})
    assert "Valid." in fine.content.decode()


def test_an_analyst_opens_calculates_and_compares(
    analyst: User, op: Operator, fourteen_hour_outage: Outage
) -> None:
    client = signed_in(analyst)
    version = policy(name="Pro rata")
    missing = client.post("/remedy/programs/new/", {"name": "", "policy_version": version.pk})
    assert missing.status_code == 400 and not Program.objects.exists()
    created = client.post(
        "/remedy/programs/new/",
        {
            "name": "Routing fault",
            "outages": [fourteen_hour_outage.pk],
            "policy_version": version.pk,
        },
    )
    made = Program.objects.get()
    assert created["Location"] == f"/remedy/programs/{made.reference}/"
    first = client.post(f"/remedy/programs/{made.reference}/calculate/", {"as_of": ""}, follow=True)
    assert "Calculated version 1: 6 of 6 customers eligible, $9.95." in first.content.decode()
    Impact.objects.filter(service=op.services["S4"]).update(window_end=T0 + timedelta(hours=20))
    client.post(f"/remedy/programs/{made.reference}/calculate/", {"as_of": ""})
    compared = client.get(f"/remedy/programs/{made.reference}/compare/?old=1&new=2")
    text = compared.content.decode()
    assert compared.status_code == 200 and "The inputs changed" in text
    assert re.search(r"<dt>Changed</dt><dd>1</dd>", text)
    assert "C3" in text
    future = client.post(
        f"/remedy/programs/{made.reference}/calculate/", {"as_of": "2999-01-01T00:00"}, follow=True
    )
    assert "as_of: cannot be in the future" in future.content.decode()
    assert made.calculations.count() == 2


def _login(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _snap(page: Page, name: str) -> None:
    for label, width in {"phone": 390, "desktop": 1280}.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"remedy-{name}-{label}.png"), full_page=True)


def _browser_data() -> Any:
    for role in Role.ALL:  # an earlier transactional test may have flushed the groups
        Group.objects.get_or_create(name=role)
    op = build_operator()
    staff("ana", Role.REMEDIATION_ANALYST)
    outage = outage_row(title="Core routing fault")
    for service in op.services.values():
        window(outage, service, T0, T0 + timedelta(hours=14, minutes=5))
    return outage


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_analyst_in_the_browser(live_server: Any) -> None:
    outage = _browser_data()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        _login(page, f"{live_server.url}/remedy/policies/new/?preset=pro_rata", "ana")
        page.get_by_role("heading", name="New policy").wait_for()
        page.get_by_label("Name").fill("Routing fault credit")
        document = page.get_by_label("Document")
        document.fill('{"basis": {"kind": "pro_rata"}, "goodwill_cents": {"small_business": "20"}}')
        page.get_by_role("button", name="Check").click()
        expect(page.locator("#check")).to_contain_text("goodwill_cents.small_business")
        document.fill('{"basis": {"kind": "pro_rata"}, "goodwill_cents": {"small_business": 2000}}')
        page.get_by_role("button", name="Check").click()
        expect(page.locator("#check")).to_contain_text("Valid.")
        _snap(page, "policy")
        page.get_by_role("button", name="Save version 1").click()
        expect(page.get_by_role("status")).to_contain_text("Saved Routing fault credit v1")

        page.goto(f"{live_server.url}/remedy/programs/new/")
        page.get_by_label("Name").fill("Core routing fault")
        page.get_by_label("Outages").select_option(value=str(outage.pk))
        page.get_by_label("Policy version").select_option(
            label="Routing fault credit v1 (pro_rata)"
        )
        page.get_by_role("button", name="Open the program").click()
        expect(page.get_by_role("status")).to_contain_text("Opened REM-")
        page.get_by_role("button", name="Calculate now").click()
        expect(page.get_by_role("status")).to_contain_text("6 of 6 customers eligible, $29.95")
        page.get_by_role("button", name="Calculate again").click()
        expect(page.locator("#calculations tbody tr")).to_have_count(2)
        _snap(page, "program")
        page.get_by_role("button", name="Compare").click()
        expect(page.locator("#diff-counts")).to_contain_text("Unchanged")
        # Calculated at two moments: as_of differs, so the inputs do, but no amount changed.
        expect(page.get_by_text("No customer's entitlement changed.")).to_be_visible()
        page.go_back()
        page.get_by_role("link", name="v2").click()
        expect(page.locator("#entitlements")).to_contain_text(
            "small-business goodwill $20.00; total $21.72"
        )
        _snap(page, "calculation")
        browser.close()


def test_the_outages_to_choose_from_start_in_the_operators_zone(
    analyst: User, op: Operator
) -> None:
    """22:30 UTC on 6 December is 09:30 on the 7th in Sydney: the date the console shows."""
    started = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)
    outage = outage_row(title="Late-night fibre cut", started_at=started)
    page = signed_in(analyst).get("/remedy/programs/new/").content.decode()
    assert f"{outage.reference} Late-night fibre cut (7 Dec 2026 09:30, Resolved)" in page
    listed = signed_in(analyst).get("/outages/").content.decode()
    assert "7 Dec 09:30" in listed
