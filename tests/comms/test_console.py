"""The notices console from three angles (a communications lead who may write, a viewer who
may only read, a stranger); composing, the pre-send preview on a small operator, four-eyes
approval, the delivery dashboard, and the template editor with its live preview."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.html import escape

from amends.comms import preview
from amends.comms.models import Delivery, MessageTemplate, Notice, NoticeStatus
from amends.comms.services import deliveries_retry, notice_create, notice_submit
from amends.comms.template_services import TemplateRefused, template_save
from amends.comms.templating import default_sources, sms_info
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from tests.factories import Operator, build_operator

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456-x"  # noqa: S105
SMS_VI = reverse("comms:template", args=["acknowledge", "sms", "vi"])
SMS_EN = reverse("comms:template", args=["acknowledge", "sms", "en"])


@pytest.fixture
def op() -> Operator:
    """build_operator, with the NSW customers spread over channels and languages:
    C1 SMS in English (held: their mobile is in the outage), C2 email in Vietnamese,
    C3 (priority assistance) SMS in Chinese, C4 no contact details at all."""
    op = build_operator()
    Customer.objects.filter(external_id="C2").update(email="c2@example.com", language="vi")
    Customer.objects.filter(external_id="C3").update(language="zh")
    Customer.objects.filter(external_id="C4").update(mobile="")
    return op


@pytest.fixture
def users(op: Operator) -> dict[str, User]:
    return {
        name: staff_user_set(actor="test", username=name, role=role, password=PASSWORD)
        for name, role in [
            ("cleo", Role.COMMUNICATIONS),
            ("abe", Role.APPROVER),
            ("vic", Role.VIEWER),
        ]
    }


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def cleo(users: dict[str, User]) -> Client:
    return client_for(users["cleo"])


@pytest.fixture
def viewer(users: dict[str, User]) -> Client:
    return client_for(users["vic"])


@pytest.fixture
def outage(op: Operator) -> Outage:
    return outage_declare(
        actor="nmc",
        title="NSW core fault",
        scope_items=[ScopeSpec(kind="state", state="NSW")],
    ).outage


@pytest.fixture
def notice(users: dict[str, User], outage: Outage) -> Notice:
    return notice_create(
        actor=users["cleo"], kind="acknowledge", audience="all_affected", outage=outage
    )


def text(response: Any) -> str:
    return response.content.decode()


def by_id(response: Any, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', text(response))
    assert match, f"no #{element_id} in the page"
    return match.group(1).strip()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# Three angles on every page --------------------------------------------------------------


def test_stranger_is_sent_to_sign_in_everywhere(notice: Notice) -> None:
    stranger = client_for(None)
    for url in (
        reverse("comms:list"),
        reverse("comms:new"),
        reverse("comms:detail", args=[notice.pk]),
        reverse("comms:dashboard", args=[notice.pk]),
        reverse("comms:templates"),
        SMS_EN,
    ):
        response = stranger.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    response = stranger.post(reverse("comms:submit", args=[notice.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.DRAFT


def test_list_filters_and_offers_writing_only_to_writers(
    cleo: Client, viewer: Client, notice: Notice, outage: Outage
) -> None:
    response = cleo.get(reverse("comms:list"), {"outage": outage.reference})
    assert response.status_code == 200
    assert f'href="{reverse("comms:detail", args=[notice.pk])}"' in text(response)
    assert "New notice" in text(response)
    response = viewer.get(reverse("comms:list"))
    assert response.status_code == 200 and "Acknowledge" in text(response)
    assert "New notice" not in text(response)
    response = viewer.get(reverse("comms:list"), {"outage": "OUT-1999-0001"})
    assert "No notices match these filters." in text(response)
    response = viewer.get(reverse("comms:list"), {"status": "sent"})
    assert reverse("comms:detail", args=[notice.pk]) not in text(response)


def test_viewer_reads_but_cannot_write(viewer: Client, notice: Notice, outage: Outage) -> None:
    assert viewer.get(reverse("comms:new")).status_code == 403
    response = viewer.post(
        reverse("comms:new"),
        {"outage": outage.reference, "kind": "update", "audience": "all_affected"},
    )
    assert response.status_code == 403 and Notice.objects.count() == 1
    page = viewer.get(reverse("comms:detail", args=[notice.pk]))
    assert page.status_code == 200 and by_id(page, "preview-reachable") == "3"
    assert "csrfmiddlewaretoken" not in text(page).split('id="main"')[1]  # no write forms
    for action in ("submit", "approve", "cancel", "retry"):
        assert viewer.post(reverse(f"comms:{action}", args=[notice.pk])).status_code == 403
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.DRAFT
    assert viewer.get(reverse("comms:dashboard", args=[notice.pk])).status_code == 200


# Composing -----------------------------------------------------------------------------


def test_composer_creates_a_draft_and_shows_its_preview(cleo: Client, outage: Outage) -> None:
    page = cleo.get(reverse("comms:new"), {"outage": outage.reference})
    assert page.status_code == 200
    assert f'<option value="{outage.reference}" selected>' in text(page)
    response = cleo.post(
        reverse("comms:new"),
        {
            "outage": outage.reference,
            "kind": "acknowledge",
            "audience": "all_affected",
            "message": "Engineers are on site.",
            "urgent": "",
        },
        follow=True,
    )
    notice = Notice.objects.get()
    assert response.redirect_chain[-1][0] == reverse("comms:detail", args=[notice.pk])
    assert notice.status == NoticeStatus.DRAFT and notice.author.username == "cleo"
    assert notice.urgent and notice.message == "Engineers are on site."  # acknowledge: urgent
    assert messages_of(response) == [
        "Draft saved: it would reach 3 customers. Check the preview, then submit."
    ]
    assert f'action="/notices/{notice.pk}/submit/"' in text(response)


def test_composer_shows_the_services_refusal_at_its_field(cleo: Client, outage: Outage) -> None:
    response = cleo.post(
        reverse("comms:new"),
        {"outage": "", "kind": "custom", "audience": "list", "customers": "C1, NOPE"},
    )
    assert response.status_code == 400 and not Notice.objects.exists()
    assert "unknown customer(s): NOPE" in text(response)
    response = cleo.post(
        reverse("comms:new"),
        {"outage": outage.reference, "kind": "update", "audience": "segment", "segment": ""},
    )
    assert response.status_code == 400 and "is not a segment" in text(response)
    response = cleo.post(
        reverse("comms:new"),
        {"kind": "custom", "audience": "list", "customers": "C1 C3", "urgent": "no"},
    )
    notice = Notice.objects.get()
    assert response.status_code == 302 and notice.audience_list == ["C1", "C3"]
    assert notice.urgent is False and notice.outage is None


# The preview ---------------------------------------------------------------------------


@override_settings(AMENDS_SMS_SEGMENT_COST_CENTS=10, AMENDS_CHANNEL_RATES="sms=0.01")
def test_preview_counts_channels_languages_priorities_cost_and_time(
    cleo: Client, notice: Notice
) -> None:
    found = preview.notice_preview(notice)
    assert found.counts.customers == 4 and found.counts.reachable == 3
    assert found.counts.by_channel == {"sms": 2, "email": 1}
    assert found.counts.held == 1  # C1: SMS waits for their mobile service
    assert dict(found.languages) == {"en": 1, "vi": 1, "zh": 1}
    assert found.priorities == [
        ("Priority assistance", 1),
        ("Business and government", 1),
        ("Everyone else", 1),
    ]
    assert found.counts.unreachable == {"no contact details": 1}
    sms = {line.language: line for line in found.sms}
    assert set(sms) == {"en", "zh"}
    assert sms["en"].info and sms["en"].info.encoding == "GSM-7"
    assert sms["zh"].info and sms["zh"].info.encoding == "UCS-2"
    segments = sms["en"].info.segments + sms["zh"].info.segments
    assert found.sms_segments == segments and found.sms_cost_cents == segments * 10
    # Only C3's SMS can go now (C1's is held): 1 message at 0.01 a second is 100 seconds.
    assert found.send_seconds == pytest.approx(100)
    samples = {sample.channel: sample for sample in found.samples}
    assert set(samples) == {"sms", "email"}
    assert samples["email"].customer.external_id == "C2" and samples["email"].language == "vi"
    assert samples["sms"].customer.external_id == "C1" and samples["sms"].sms
    assert samples["sms"].sms == sms_info(samples["sms"].text)

    page = cleo.get(reverse("comms:detail", args=[notice.pk]))
    assert page.status_code == 200
    assert by_id(page, "preview-customers") == "4"
    assert by_id(page, "preview-reachable") == "3"
    assert by_id(page, "preview-held") == "1"
    assert by_id(page, "preview-unreachable") == "1"
    assert by_id(page, "preview-time") == "about 2 minutes"
    assert by_id(page, "preview-cost") == f"${segments * 10 / 100:,.2f}"
    body = text(page)
    assert "No contact details" in body and "UCS-2" in body and "Chinese (zh)" in body
    assert re.search(r'<iframe class="email-html" sandbox="" srcdoc="[^"]*&lt;', body)
    assert "Customer C2" in body and "Customer C1" in body  # real recipients


def test_preview_sample_uses_the_operators_latest_wording(
    users: dict[str, User], cleo: Client, notice: Notice
) -> None:
    template_save(
        actor=users["cleo"],
        kind="acknowledge",
        channel="sms",
        language="en",
        body="Hi {{ customer.name }}, we know. {{ outage_url }}",
    )
    page = cleo.get(reverse("comms:detail", args=[notice.pk]))
    assert "Hi Customer C1, we know. http" in text(page)


# Four eyes -----------------------------------------------------------------------------


@override_settings(AMENDS_APPROVAL_THRESHOLD=2)
def test_author_cannot_approve_and_an_approver_can(
    users: dict[str, User], cleo: Client, notice: Notice
) -> None:
    response = cleo.post(reverse("comms:submit", args=[notice.pk]), follow=True)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.AWAITING_APPROVAL
    assert "a second person must approve it" in messages_of(response)[0]
    assert f'action="/notices/{notice.pk}/approve/"' not in text(response)  # hidden for her
    assert "You wrote this notice" in text(response)

    response = cleo.post(reverse("comms:approve", args=[notice.pk]), follow=True)
    assert messages_of(response) == ["A second person must approve a notice you wrote."]
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.AWAITING_APPROVAL and not Delivery.objects.exists()

    abe = client_for(users["abe"])
    page = abe.get(reverse("comms:detail", args=[notice.pk]))
    assert f'action="/notices/{notice.pk}/approve/"' in text(page)
    assert abe.post(reverse("comms:submit", args=[notice.pk])).status_code == 403  # not a writer
    response = abe.post(reverse("comms:approve", args=[notice.pk]), follow=True)
    assert messages_of(response) == ["Approved: sending to 3 recipients."]
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENDING and notice.approved_by == users["abe"]
    # The dashboard replaces the preview and polls while sending.
    assert by_id(response, "delivery-total") == "3"
    assert by_id(response, "delivery-queued") == "2" and by_id(response, "delivery-held") == "1"
    assert 'hx-trigger="every 5s"' in text(response) and 'id="preview-heading"' not in text(
        response
    )


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_dashboard_shows_progress_failures_and_retry(
    users: dict[str, User], cleo: Client, notice: Notice
) -> None:
    notice_submit(actor=users["cleo"], notice=notice)
    c2, c3 = (Customer.objects.get(external_id=c) for c in ("C2", "C3"))
    Delivery.objects.filter(customer=c2).update(status="delivered")
    Delivery.objects.filter(customer=c3).update(status="dead", error="550 no such number")
    fragment = cleo.get(reverse("comms:dashboard", args=[notice.pk]))
    assert fragment.status_code == 200
    assert by_id(fragment, "delivery-done") == "1" and by_id(fragment, "delivery-total") == "3"
    assert 'value="1"' in text(fragment) and "550 no such number" in text(fragment)
    assert 'hx-trigger="every 5s"' in text(fragment)
    assert 'id="notice-status" hx-swap-oob="true"' in text(fragment)
    table = re.search(r'<table class="by-channel">.*?</table>', text(fragment), re.S)
    assert table and re.sub(r"\s+", " ", table.group(0)).count('<th scope="row">') == 2

    response = cleo.post(reverse("comms:retry", args=[notice.pk]), follow=True)
    assert messages_of(response) == ["Queued 1 failed message again."]
    assert Delivery.objects.get(customer=c3).status == "queued"

    response = cleo.post(reverse("comms:cancel", args=[notice.pk]), follow=True)
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.CANCELLED
    assert 'hx-trigger="every 5s"' not in text(response)  # no more polling once finished


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_retry_sends_nobody_a_second_message(users: dict[str, User], notice: Notice) -> None:
    """C2's email failed but their SMS fallback was sent; C3's SMS and then email failed.
    A retry leaves C2 alone and queues C3's first channel only (it falls back again)."""
    notice_submit(actor=users["cleo"], notice=notice)
    c2, c3 = (Customer.objects.get(external_id=c) for c in ("C2", "C3"))
    Delivery.objects.filter(customer__in=[c2, c3]).update(status="failed")
    for customer, channel, status in ((c2, "sms", "sent"), (c3, "email", "dead")):
        fallback = Delivery.objects.get(customer=customer)
        fallback.pk, fallback.channel, fallback.status = None, channel, status
        fallback.save()

    assert deliveries_retry(actor=users["cleo"], notice=notice) == 1
    by_customer = Delivery.objects.filter(customer__in=[c2, c3]).order_by("customer_id", "pk")
    assert [(d.customer_id, d.channel, d.status) for d in by_customer] == [
        (c2.pk, "email", "failed"),
        (c2.pk, "sms", "sent"),
        (c3.pk, "sms", "queued"),
        (c3.pk, "email", "dead"),
    ]


# Templates -----------------------------------------------------------------------------


def test_template_pages_from_three_angles(cleo: Client, viewer: Client) -> None:
    listing = cleo.get(reverse("comms:templates"))
    assert listing.status_code == 200 and f'href="{SMS_VI}"' in text(listing)
    assert viewer.get(reverse("comms:templates")).status_code == 200

    editor = cleo.get(SMS_VI)
    assert editor.status_code == 200 and 'name="body"' in text(editor)
    assert 'name="subject"' not in text(editor)  # SMS has only a text part
    assert "outage.etr" in text(editor) and "join_and" in text(editor)  # the help
    assert "The shipped default." in text(editor)

    read_only = viewer.get(SMS_VI)
    assert read_only.status_code == 200 and 'name="body"' not in text(read_only)
    shipped = default_sources("acknowledge", "sms", "vi")[1]["text"]
    assert f'<pre class="code">{escape(shipped)}</pre>' in text(read_only)
    assert viewer.post(SMS_VI, {"body": "Hi"}).status_code == 403
    assert viewer.post(SMS_VI + "preview/", {"body": "Hi"}).status_code == 403
    assert cleo.get("/notices/templates/gossip/sms/en/").status_code == 404
    assert cleo.get("/notices/templates/acknowledge/fax/en/").status_code == 404
    assert not MessageTemplate.objects.exists()


def test_template_save_refuses_an_unknown_variable_with_its_line(cleo: Client) -> None:
    body = "Hi {{ customer.first_name }},\nyour {{ outage.servces|join_and }} is down.\n"
    response = cleo.post(SMS_EN, {"body": body})
    assert response.status_code == 400 and not MessageTemplate.objects.exists()
    assert "Line 2: unknown variable &#x27;outage.servces&#x27;" in text(response)
    assert "did you mean &#x27;outage.services&#x27;" in text(response)

    good = "Hi {{ customer.first_name }}, your {{ outage.services|join_and }} is down."
    response = cleo.post(SMS_EN, {"body": good}, follow=True)
    assert messages_of(response) == ["Saved version 1."]
    response = cleo.post(SMS_EN, {"body": good + " Sorry."}, follow=True)
    assert messages_of(response) == ["Saved version 2."]
    latest = MessageTemplate.objects.order_by("-version").first()
    assert latest and latest.version == 2 and latest.body.endswith("Sorry.")
    assert latest.author == "cleo" and latest.language == "en" and latest.channel == "sms"
    assert "Our version 2, saved by cleo" in text(response)
    entries = AuditEntry.objects.filter(action="comms.template_save").order_by("seq")
    assert [e.after["version"] for e in entries] == [1, 2]
    assert entries[1].before == {"version": 1} and entries[1].actor == "cleo"


def test_template_save_service_names_part_and_line(users: dict[str, User]) -> None:
    with pytest.raises(TemplateRefused) as refused:
        template_save(
            actor=users["cleo"],
            kind="acknowledge",
            channel="email",
            language="en",
            subject="Outage",
            body="ok",
            html="<p>\n{{ nope }}</p>",
        )
    assert refused.value.field == "html" and refused.value.problems[0].line == 2
    assert "html, line 2: unknown variable 'nope'" in refused.value.message
    with pytest.raises(TemplateRefused, match="required"):
        template_save(actor=users["cleo"], kind="acknowledge", channel="sms", language="en")
    from amends.core.errors import AmendsError

    with pytest.raises(AmendsError, match="no role"):
        template_save(
            actor=users["vic"], kind="acknowledge", channel="sms", language="en", body="Hi"
        )
    with pytest.raises(AmendsError, match="language tag"):
        template_save(
            actor=users["cleo"], kind="acknowledge", channel="sms", language="x!", body="Hi"
        )
    assert (
        not MessageTemplate.objects.exists()
        and not AuditEntry.objects.filter(action="comms.template_save").exists()
    )


def test_live_preview_shows_sms_segments_for_a_ucs2_text(cleo: Client) -> None:
    body = "Xin chào {{ customer.first_name }}, mạng đang gián đoạn ở {{ outage.areas|join_and }}."
    response = cleo.post(SMS_VI + "preview/", {"body": body}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = text(response)
    assert "<html" not in html  # the fragment, not the page
    assert re.search(r"<strong>UCS-2</strong>: \d+ characters, <strong>1 segment</strong>", html)
    assert '<mark title="forces UCS-2">' in html and "U+1EA1" in html  # ạ
    assert 'id="preview-ok"' in html

    long_body = body + " " + "Chúng tôi xin lỗi. " * 6
    response = cleo.post(SMS_VI + "preview/", {"body": long_body}, HTTP_HX_REQUEST="true")
    assert re.search(r"<strong>[2-9] segments</strong>", text(response))

    broken = cleo.post(
        SMS_VI + "preview/", {"body": "ok\n{{ outage.etr|nofilter }}"}, HTTP_HX_REQUEST="true"
    )
    assert "line 2" in text(broken) and 'id="preview-problems"' in text(broken)

    # Without JavaScript the Preview button shows the whole editor with the preview.
    page = cleo.post(SMS_VI + "preview/", {"body": body})
    assert page.status_code == 200 and "<html" in text(page) and "UCS-2" in text(page)
    assert not MessageTemplate.objects.exists()


# What a role cannot do is neither offered nor answered with a bare error ---------------------


@pytest.fixture
def agent(op: Operator) -> Client:
    return client_for(
        staff_user_set(actor="test", username="ada", role=Role.AGENT, password=PASSWORD)
    )


def test_an_agent_is_not_offered_a_notice_and_is_refused_in_the_console_look(
    agent: Client, cleo: Client, outage: Outage
) -> None:
    page = reverse("outages:detail", args=[outage.reference])
    composer = reverse("comms:new")
    assert f'href="{composer}?outage={outage.reference}"' in text(cleo.get(page))
    shown = agent.get(page)
    assert shown.status_code == 200 and composer not in text(shown)
    assert "Write a notice" not in text(shown)

    refused = agent.get(f"{composer}?outage={outage.reference}")
    assert refused.status_code == 403
    assert "core/base.html" in [t.name for t in refused.templates]
    assert "<h1>Not for your role</h1>" in text(refused)
    assert "This needs one of the roles communications, commander, admin" in text(refused)
    assert f'href="{reverse("console-home")}"' in text(refused)


def test_a_refusal_is_one_log_line_without_a_traceback(
    agent: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO"):
        assert agent.get(reverse("comms:new")).status_code == 403
    refusals = [r for r in caplog.records if r.name == "django.request"]
    assert len(refusals) == 1 and refusals[0].exc_info is None
    assert refusals[0].getMessage() == (
        "Forbidden (Permission denied): /notices/new/ (This needs one of the roles "
        "communications, commander, admin; your account has none of them.)"
    )
    assert "Traceback" not in caplog.text
