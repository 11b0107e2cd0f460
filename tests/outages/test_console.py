"""The outage console from three angles: a commander who may act, a viewer who may only read,
and a stranger; declaring with its live preview; and each commander action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.outages.models import Impact, Outage, ScopeItem, Status, Update, Visibility
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from tests.factories import Operator, build_operator

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456-x"  # noqa: S105


@pytest.fixture
def op() -> Operator:
    return build_operator()


def _client(username: str, role: str) -> Client:
    user = staff_user_set(actor="test", username=username, role=role, password=PASSWORD)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def commander(op: Operator) -> Client:
    return _client("cora", Role.COMMANDER)


@pytest.fixture
def viewer(op: Operator) -> Client:
    return _client("vic", Role.VIEWER)


@pytest.fixture
def outage(op: Operator) -> Outage:
    return outage_declare(
        actor="cora",
        title="Exchange X1 fibre cut",
        scope_items=[ScopeSpec(kind="element", element="X1")],
        started_at=timezone.now() - timedelta(minutes=20),
    ).outage


def local(value: datetime) -> str:
    """What a datetime-local input sends for ``value``."""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def declare_data(**overrides: str) -> dict[str, str]:
    data = {
        "title": "Exchange X1 fibre cut",
        "summary": "Internet and mobile are out around Sydney CBD.",
        "severity": "major",
        "started_at": local(timezone.now() - timedelta(minutes=10)),
        "scope-0-kind": "element",
        "scope-0-value": "X1",
        "scope-0-include": "include",
    }
    data.update(overrides)
    return data


def text(response: Any) -> str:
    return str(response.content.decode())


WRITE_URLS: list[tuple[str, dict[str, str]]] = [
    ("status/", {"to": "identified"}),
    ("etr/", {"etr-reason": "crew on site"}),
    ("updates/", {"update-message": "hello", "update-visibility": "public"}),
    ("restore/", {}),
    ("scope/", {"scope-0-kind": "postcode", "scope-0-value": "2650"}),
]


# --- a stranger -------------------------------------------------------------------------------


def test_stranger_is_sent_to_login_everywhere(client: Client, outage: Outage) -> None:
    base = f"/outages/{outage.reference}/"
    for url in ("/outages/", "/outages/declare/", base):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    posts = ["/outages/declare/", "/outages/preview/"]
    posts += [base + path for path, _ in WRITE_URLS]
    posts.append(f"{base}scope/{outage.scope_items.get().pk}/remove/")
    for url in posts:
        response = client.post(url, declare_data())
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    assert Outage.objects.count() == 1 and Outage.objects.get().status == Status.INVESTIGATING


# --- a viewer ---------------------------------------------------------------------------------


def test_viewer_reads_the_list_and_detail_without_write_forms(
    viewer: Client, outage: Outage
) -> None:
    listing = text(viewer.get("/outages/"))
    assert outage.reference in listing and "Declare an outage" not in listing
    page = viewer.get(f"/outages/{outage.reference}/")
    assert page.status_code == 200
    body = text(page)
    assert outage.reference in body and 'id="impact-services">3<' in body
    assert "Commander actions" not in body and '<form method="post" action="/outages/' not in body
    assert "Restore all" not in body


def test_viewer_may_not_declare_preview_or_write(viewer: Client, outage: Outage) -> None:
    audit_before = AuditEntry.objects.count()
    assert viewer.get("/outages/declare/").status_code == 403
    assert viewer.post("/outages/declare/", declare_data()).status_code == 403
    assert (
        viewer.post("/outages/preview/", declare_data(), HTTP_HX_REQUEST="true").status_code == 403
    )
    base = f"/outages/{outage.reference}/"
    for path, data in WRITE_URLS:
        assert viewer.post(base + path, data).status_code == 403, path
    item = outage.scope_items.get()
    assert viewer.post(f"{base}scope/{item.pk}/remove/").status_code == 403
    assert Outage.objects.count() == 1 and AuditEntry.objects.count() == audit_before
    outage.refresh_from_db()
    assert outage.status == Status.INVESTIGATING and outage.scope_items.count() == 1


def test_agent_reads_too(op: Operator, outage: Outage) -> None:
    agent = _client("ann", Role.AGENT)
    assert agent.get(f"/outages/{outage.reference}/").status_code == 200
    assert agent.post(f"/outages/{outage.reference}/status/", {"to": "resolved"}).status_code == 403


def test_unknown_reference_is_404(viewer: Client) -> None:
    assert viewer.get("/outages/OUT-1999-0001/").status_code == 404


# --- the list ---------------------------------------------------------------------------------


def test_list_puts_open_first_filters_and_flags_overdue_updates(
    commander: Client, outage: Outage
) -> None:
    older = outage_declare(
        actor="cora",
        title="Wagga mobile site down",
        scope_items=[ScopeSpec(kind="postcode", postcode="2650")],
        started_at=timezone.now() - timedelta(hours=3),
    ).outage
    finished = outage_declare(
        actor="cora",
        title="Melbourne node",
        scope_items=[ScopeSpec(kind="state", state="VIC")],
        started_at=timezone.now() - timedelta(minutes=5),
    ).outage
    Outage.objects.filter(pk=finished.pk).update(status=Status.RESOLVED)
    Outage.objects.filter(pk=older.pk).update(next_update_by=timezone.now() - timedelta(minutes=1))

    body = text(commander.get("/outages/"))
    # Open ones first (newest first), then the resolved one although it started last.
    positions = [body.index(o.reference) for o in (outage, older, finished)]
    assert positions == sorted(positions)
    overdue = timezone.localtime(timezone.now() - timedelta(minutes=1))
    assert body.count("Update overdue since") == 1
    assert f"Update overdue since {overdue:%H:%M}" in body
    row = body[body.index(older.reference) :].split("</tr>")[0]
    assert "overdue" in row and ">2<" in row  # S4 and S5

    assert older.reference not in text(commander.get("/outages/?q=x1"))
    assert outage.reference in text(commander.get("/outages/?q=x1"))
    resolved = text(commander.get("/outages/?status=resolved"))
    assert finished.reference in resolved and outage.reference not in resolved
    open_only = text(commander.get("/outages/?status=open"))
    assert finished.reference not in open_only and older.reference in open_only
    assert "No outages match" in text(commander.get("/outages/?classification=major"))


# --- declaring --------------------------------------------------------------------------------


def test_commander_declares_and_lands_on_the_detail_page(commander: Client, op: Operator) -> None:
    data = declare_data(
        **{
            "scope-1-kind": "element",
            "scope-1-value": "CELL1",
            "scope-1-include": "exclude",
            "natural_disaster": "on",
            "cause_internal": "Backhoe",
        }
    )
    response = commander.post("/outages/declare/", data)
    created = Outage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/outages/{created.reference}/"
    assert created.affected_services == 2  # X1's three, less S2 under CELL1
    assert created.natural_disaster and created.cause_internal == "Backhoe"
    assert [i.include for i in created.scope_items.all()] == [True, False]
    page = text(commander.get(response["Location"]))
    assert f"Declared {created.reference}." in page
    assert 'id="impact-services">2<' in page and "Move to Identified" in page


def test_datetime_local_is_read_in_the_site_time_zone(commander: Client, op: Operator) -> None:
    commander.post("/outages/declare/", declare_data(started_at="2025-01-15T09:30"))
    started = Outage.objects.get().started_at
    assert started == datetime(2025, 1, 15, 9, 30, tzinfo=ZoneInfo(settings.TIME_ZONE))


def test_declare_page_shows_the_form(commander: Client, op: Operator) -> None:
    body = text(commander.get("/outages/declare/"))
    assert '<label for="id_scope-3-value">' in body and 'hx-post="/outages/preview/"' in body
    assert 'type="datetime-local"' in body and "htmx.min.js" in body


@pytest.mark.parametrize(
    ("overrides", "error_id", "message"),
    [
        (
            {"scope-0-value": "X9"},
            "id_scope-0-value_error",
            "unknown network element &#x27;X9&#x27;",
        ),
        (
            {"etr": local(timezone.now() - timedelta(hours=1))},
            "id_etr_error",
            "must be in the future",
        ),
        (
            {
                "scope-0-kind": "polygon",
                "scope-0-value": "",
                "scope-0-geojson": '{"type": "Polygon", "coordinates": [[[151.2, -33.8]]]}',
            },
            "id_scope-0-geojson_error",
            "is not a valid polygon",
        ),
        (
            {"scope-0-kind": "polygon", "scope-0-value": "", "scope-0-geojson": "{nope"},
            "id_scope-0-geojson_error",
            "is not valid JSON",
        ),
        (
            {"scope-0-kind": "state", "scope-0-value": "QQ"},
            "id_scope-0-value_error",
            "&#x27;QQ&#x27; is not a state or territory",
        ),
        (
            {"scope-0-kind": "locality", "scope-0-value": "Wagga Wagga", "scope-0-state": "XX"},
            "id_scope-0-state_error",
            "Select a valid choice",
        ),
        ({"title": ""}, "id_title_error", "This field is required"),
        ({"started_at": "yesterday"}, "id_started_at_error", "Enter a valid date/time"),
        ({"scope-0-kind": "", "scope-0-value": ""}, "scope-errors", "Name at least one"),
        (
            {"scope-0-include": "exclude"},
            "scope-errors",
            "name at least one area, element, product or service affected",
        ),
    ],
)
def test_bad_declarations_show_the_error_and_create_nothing(
    commander: Client, op: Operator, overrides: dict[str, str], error_id: str, message: str
) -> None:
    audit_before = AuditEntry.objects.count()
    response = commander.post("/outages/declare/", declare_data(**overrides))
    assert response.status_code == 400
    body = text(response)
    error = body[body.index(f'id="{error_id}"') :].split("</div>")[0]
    assert message in error
    assert "Nothing was declared" in body
    assert Outage.objects.count() == 0 and ScopeItem.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before


def test_an_error_on_a_later_line_points_at_that_line(commander: Client, op: Operator) -> None:
    # Line 2 is blank and skipped; the bad one is the third row of the form.
    data = declare_data(**{"scope-2-kind": "product", "scope-2-value": "NOPE"})
    body = text(commander.post("/outages/declare/", data))
    assert "unknown product &#x27;NOPE&#x27;" in body.split('id="id_scope-2-value_error"')[1][:200]


# --- the live preview -------------------------------------------------------------------------


def test_preview_counts_without_writing_anything(commander: Client, op: Operator) -> None:
    audit_before = AuditEntry.objects.count()
    response = commander.post("/outages/preview/", declare_data(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = text(response)
    assert "3 services, 2 customers</strong> would be affected (NSW 3)" in body
    assert "<html" not in body  # a fragment for htmx to swap in
    assert Outage.objects.count() == 0 and ScopeItem.objects.count() == 0
    assert Impact.objects.count() == 0 and Update.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before
    # and the reference it "used" is still free
    commander.post("/outages/declare/", declare_data())
    assert Outage.objects.get().reference.endswith("-0001")


def test_preview_shows_scope_errors_and_blank_hint(commander: Client, op: Operator) -> None:
    bad = commander.post(
        "/outages/preview/", declare_data(**{"scope-0-value": "X9"}), HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 200  # htmx swaps only 2xx responses
    assert "Scope line 1, element: unknown network element" in text(bad)
    # Lines are numbered as the form shows them, blank ones included.
    third = {"scope-2-kind": "postcode", "scope-2-value": "26"}
    bad = commander.post("/outages/preview/", declare_data(**third), HTTP_HX_REQUEST="true")
    assert "Scope line 3, postcode: &#x27;26&#x27; is not a 4-digit postcode" in text(bad)
    blank = commander.post(
        "/outages/preview/", {"scope-0-kind": "", "title": ""}, HTTP_HX_REQUEST="true"
    )
    assert "Fill in a scope line" in text(blank)
    assert AuditEntry.objects.filter(action="outage.declare").count() == 0


def test_preview_without_javascript_shows_the_whole_form(commander: Client, op: Operator) -> None:
    response = commander.post("/outages/preview/", declare_data(**{"scope-0-value": "R-NSW"}))
    body = text(response)
    assert "<h1>Declare an outage</h1>" in body and "5 services, 4 customers" in body
    assert 'value="Exchange X1 fibre cut"' in body  # what was typed is kept
    assert Outage.objects.count() == 0


# --- commander actions ------------------------------------------------------------------------

Post = Callable[..., Any]


@pytest.fixture
def act(commander: Client, outage: Outage) -> Post:
    def post(path: str, data: dict[str, str] | None = None) -> str:
        response = commander.post(f"/outages/{outage.reference}/{path}", data or {}, follow=True)
        assert response.redirect_chain == [(f"/outages/{outage.reference}/", 302)]
        outage.refresh_from_db()
        return text(response)

    return post


def test_transitions_move_the_status_and_refuse_bad_moves(act: Post, outage: Outage) -> None:
    page = act("status/", {"to": "identified", "message": "Found the cut."})
    assert outage.status == Status.IDENTIFIED and "is now Identified" in page
    assert outage.updates.filter(message="Found the cut.").exists()
    assert "Move to Investigating" not in page and "Move to Restoring" in page
    page = act("status/", {"to": "investigating"})
    assert outage.status == Status.IDENTIFIED
    assert 'role="alert"' in page and "it can move to restoring, monitoring, resolved" in page
    page = act("status/", {"to": "sideways"})
    assert "Select a valid choice" in page and outage.status == Status.IDENTIFIED


def test_resolving_asks_what_happened_and_shows_it(act: Post, outage: Outage) -> None:
    page = act("status/", {"to": "resolved"})
    assert outage.status == Status.INVESTIGATING and outage.resolved_at is None
    assert 'role="alert"' in page and "resolving needs a resolution summary" in page
    assert "What happened (required to resolve)" in page
    summary = "Roadworks cut the fibre at pit 4; we spliced it and services came back."
    page = act("status/", {"to": "resolved", "resolution_summary": summary})
    assert outage.status == Status.RESOLVED and outage.resolution_summary == summary
    assert (
        f'<dt>What happened (resolution summary)</dt><dd id="resolution-summary">{summary}</dd>'
        in page
    )
    entry = AuditEntry.objects.filter(action="outage.resolved").get()
    assert entry.after["resolution_summary"] == summary


def test_etr_is_set_and_a_past_one_refused(act: Post, outage: Outage) -> None:
    etr = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=4)
    page = act("etr/", {"etr-etr": local(etr), "etr-reason": "Crew on site"})
    assert outage.etr == etr and "ETR updated." in page
    assert outage.etr_changes.get().reason == "Crew on site"
    assert "Crew on site</td>" in page  # the ETR history
    page = act("etr/", {"etr-etr": local(timezone.now() - timedelta(hours=1))})
    assert outage.etr == etr and "ETR: must be in the future" in page


def test_updates_are_posted_and_labelled(act: Post, outage: Outage) -> None:
    page = act(
        "updates/", {"update-message": "Splicing at pit 4.", "update-visibility": "internal"}
    )
    update = outage.updates.get(message="Splicing at pit 4.")
    assert update.visibility == Visibility.INTERNAL and "Posted an internal update." in page
    timeline = page.split('id="timeline-heading"')[1]
    assert 'tag-internal">Internal</span>' in timeline and "Splicing at pit 4." in timeline
    assert 'tag-public">Public</span>' in timeline  # the declaration's
    page = act("updates/", {"update-message": " ", "update-visibility": "public"})
    assert "Message: This field is required." in page


def test_restore_one_item_then_all(act: Post, outage: Outage, op: Operator) -> None:
    act("scope/", {"scope-0-kind": "postcode", "scope-0-value": "2650"})
    assert outage.affected_services == 5
    first, second = outage.scope_items.all()
    page = act("restore/", {"restore-item_id": str(first.pk)})
    first.refresh_from_db()
    assert first.restored_at is not None and outage.status == Status.INVESTIGATING
    assert "Restored: 3 services back." in page
    page = act("restore/", {"restore-message": "All back."})
    assert outage.status == Status.MONITORING and "is Monitoring" in page
    assert 'id="outage-status" class="status status-monitoring">Monitoring<' in page
    page = act("restore/", {"restore-item_id": str(first.pk)})
    assert 'role="alert"' in page and "no open scope item" in page


def test_scope_is_added_and_removed(act: Post, outage: Outage) -> None:
    page = act("scope/", {"scope-0-kind": "postcode", "scope-0-value": "2650"})
    assert "Scope added: 2 newly affected" in page and outage.affected_services == 5
    page = act("scope/", {"scope-0-kind": "element", "scope-0-value": "NOPE"})
    assert "Scope line 1, element: unknown network element" in page
    page = act("scope/", {"scope-0-kind": ""})
    assert "Scope: choose a kind" in page
    added = outage.scope_items.get(postcode="2650")
    page = act(f"scope/{added.pk}/remove/")
    assert "2 services no longer affected" in page and outage.scope_items.count() == 1
    last = outage.scope_items.get()
    page = act(f"scope/{last.pk}/remove/")
    assert "at least one included scope item" in page and outage.scope_items.count() == 1


def test_closed_outage_offers_no_actions(commander: Client, outage: Outage) -> None:
    Outage.objects.filter(pk=outage.pk).update(status=Status.CLOSED)
    page = text(commander.get(f"/outages/{outage.reference}/"))
    assert "Commander actions" in page
    for absent in ("Move to", "Restore all", "Set ETR", "Post update", "Add scope line"):
        assert absent not in page
    response = commander.post(f"/outages/{outage.reference}/etr/", {}, follow=True)
    assert "is closed; reopen it first" in text(response)


def test_write_urls_refuse_get(commander: Client, outage: Outage) -> None:
    assert commander.get(f"/outages/{outage.reference}/status/").status_code == 405
    assert commander.get("/outages/preview/").status_code == 405


def test_admin_may_command_too(op: Operator, outage: Outage) -> None:
    admin = _client("ada", Role.ADMIN)
    assert admin.get("/outages/declare/").status_code == 200
    assert "Commander actions" in text(admin.get(f"/outages/{outage.reference}/"))
