"""A customer's personal links: one-click unsubscribe (RFC 8058), preferences, and the
one-click survey score, as the customer meets them: in the email the outbox wrote."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client
from pytest_django import Settings

from amends.comms import dispatch, links
from amends.comms.audience import count_audience
from amends.comms.models import Delivery, Notice, SurveyResponse
from amends.comms.services import notice_create, notice_submit
from amends.core import urgent_help
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.core.tokens import token_create
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from tests.factories import build_operator

pytestmark = pytest.mark.django_db
SITE = "https://amends.example"


@pytest.fixture(autouse=True)
def _site(settings: Settings, tmp_path: Path) -> None:
    settings.SITE_URL = SITE
    settings.DATA_DIR = tmp_path
    settings.AMENDS_APPROVAL_THRESHOLD = 100


@pytest.fixture
def outage() -> Outage:
    build_operator()
    for customer in Customer.objects.all():
        customer.email = f"{customer.external_id.lower()}@example.com"
        customer.save()
    return outage_declare(
        actor="nmc",
        title="Exchange fault",
        cause_public="A fibre cut.",
        scope_items=[ScopeSpec(kind="state", state="NSW")],
    ).outage


def c1() -> Customer:
    return Customer.objects.get(external_id="C1")


def send(cleo: User, outage: Outage, kind: str) -> Notice:
    notice = notice_create(actor=cleo, kind=kind, audience="all_affected", outage=outage)
    notice = notice_submit(actor=cleo, notice=notice)
    assert dispatch.run_notice(notice.pk) == "done"
    return notice


def email_to(tmp_path: Path, address: str, notice: Notice) -> EmailMessage:
    for path in (tmp_path / "outbox" / "email").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message["To"] == address and message["Message-ID"].startswith(f"<n{notice.pk}-"):
            return message
    raise AssertionError(f"no email to {address} for notice {notice.pk}")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def local(url: str) -> str:
    assert url.startswith(SITE), url
    return url.removeprefix(SITE)


# --- unsubscribe ----------------------------------------------------------------------------


def test_an_apology_carries_a_personal_one_click_unsubscribe_that_a_get_never_uses(
    cleo: User, outage: Outage, tmp_path: Path, client: Client
) -> None:
    notice = send(cleo, outage, "apology")
    message = email_to(tmp_path, "c1@example.com", notice)
    url = links.unsubscribe_url(c1().pk)
    assert str(message["List-Unsubscribe"]).strip() == f"<{url}>"  # folded: a long line
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in text_of(message) and links.preferences_url(c1().pk) in text_of(message)
    assert "/comms/unsubscribe/" not in message.as_string()
    assert not url.endswith(f"/u/{c1().pk}")  # a signed token, never the bare id
    # A different customer's link is a different token.
    other = email_to(tmp_path, "c2@example.com", notice)
    assert other["List-Unsubscribe"] != message["List-Unsubscribe"]

    page = client.get(local(url))  # a link scanner, or the customer having a look

    html = page.content.decode()
    assert page.status_code == 200
    assert '<button type="submit">Unsubscribe</button>' in html
    assert "Outage notices still come." in html
    assert c1().unsubscribed_at is None


def test_an_urgent_notice_has_no_unsubscribe_header(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    notice = send(cleo, outage, "acknowledge")
    message = email_to(tmp_path, "c1@example.com", notice)
    assert message["List-Unsubscribe"] is None
    assert links.unsubscribe_url(c1().pk) not in message.as_string()


def test_one_click_post_unsubscribes_and_only_optional_messages_skip_them(
    cleo: User, outage: Outage
) -> None:
    mail_client = Client(enforce_csrf_checks=True)  # RFC 8058: no cookie, no CSRF token

    answer = mail_client.post(
        local(links.unsubscribe_url(c1().pk)), {"List-Unsubscribe": "One-Click"}
    )

    assert answer.status_code == 200
    assert "You are unsubscribed" in answer.content.decode()
    assert c1().unsubscribed_at is not None
    entry = AuditEntry.objects.get(action="customer.unsubscribe")
    assert entry.object_id == str(c1().pk) and entry.after == {"how": "one-click"}
    # Clicking again changes nothing and logs nothing.
    assert mail_client.post(local(links.unsubscribe_url(c1().pk))).status_code == 200
    assert AuditEntry.objects.filter(action="customer.unsubscribe").count() == 1

    apology, survey = send(cleo, outage, "apology"), send(cleo, outage, "survey")
    acknowledge = send(cleo, outage, "acknowledge")

    for skipped in (apology, survey):
        told = set(Delivery.objects.filter(notice=skipped).values_list("customer__external_id"))
        assert told == {("C2",), ("C3",), ("C4",)}
        assert count_audience(skipped).unreachable == {"unsubscribed from messages like this": 1}
    assert Delivery.objects.filter(notice=acknowledge, customer=c1()).exists()


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        signing.Signer().sign_object(1),  # signed, but not for these links
        "MQ:forged0signature0that0does0not0match00000",
    ],
)
def test_a_forged_or_mangled_link_gets_a_clear_404_and_changes_nothing(
    outage: Outage, client: Client, token: str
) -> None:
    for answer in (client.get(f"/u/{token}"), client.post(f"/u/{token}")):
        assert answer.status_code == 404
        assert "This link does not work" in answer.content.decode()
    assert client.get(f"/u/{token}/preferences").status_code == 404
    assert client.get(f"/survey/{token}/1/5").status_code == 404
    assert not Customer.objects.filter(unsubscribed_at__isnull=False).exists()


def test_a_mangled_token_of_a_real_link_is_refused(outage: Outage, client: Client) -> None:
    url = links.unsubscribe_url(c1().pk)
    assert (
        client.post(local(url[:-2] + ("aa" if not url.endswith("aa") else "bb"))).status_code == 404
    )
    assert c1().unsubscribed_at is None


# --- preferences -----------------------------------------------------------------------------


def preferences_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "consent": ["email", "sms"],
        "first": "sms",
        "language": "vi",
        "quiet_hours_start": "21:30",
        "quiet_hours_end": "07:00",
        "optional": "on",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_preferences_are_shown_and_saved_with_an_audit_record(
    outage: Outage, client: Client
) -> None:
    url = local(links.preferences_url(c1().pk))
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="quiet_hours_start"' in page.content.decode()

    saved = client.post(url, preferences_form())

    assert saved.status_code == 200 and "Saved." in saved.content.decode()
    customer = c1()
    assert customer.channel_order == "sms;email;push;voice"
    assert (customer.consent_email, customer.consent_sms, customer.consent_push) == (
        True,
        True,
        False,
    )
    assert customer.language == "vi"
    assert (
        str(customer.quiet_hours_start) == "21:30:00"
        and str(customer.quiet_hours_end) == "07:00:00"
    )
    entry = AuditEntry.objects.get(action="customer.preferences")
    assert entry.before["language"] == "en" and entry.after["language"] == "vi"
    # Unticking "messages I can do without" unsubscribes; ticking it again undoes it.
    client.post(url, preferences_form(optional=None))
    assert c1().unsubscribed_at is not None
    client.post(url, preferences_form())
    assert c1().unsubscribed_at is None


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"quiet_hours_end": ""}, "Quiet hours end: give both the start and the end"),
        ({"quiet_hours_start": "25:99"}, "Quiet hours start: Enter a valid time."),
        ({"language": "xx"}, "Language of our messages: Select a valid choice."),
        ({"first": "fax"}, "Contact me first by: Select a valid choice."),
        ({"consent": ["email", "pigeon"]}, "Channels we may use: Select a valid choice."),
    ],
)
def test_bad_preferences_name_the_field_and_change_nothing(
    outage: Outage, client: Client, changes: dict[str, Any], named: str
) -> None:
    before = Customer.objects.filter(pk=c1().pk).values().get()

    answer = client.post(local(links.preferences_url(c1().pk)), preferences_form(**changes))

    assert answer.status_code == 400
    assert named in answer.content.decode()
    assert Customer.objects.filter(pk=c1().pk).values().get() == before
    assert not AuditEntry.objects.filter(action="customer.preferences").exists()


# --- the survey ------------------------------------------------------------------------------


def score_links(text: str) -> dict[int, str]:
    return {int(m[1]): m[0] for m in re.finditer(r"https://\S+/survey/\S+/([1-5])\b", text)}


def test_a_survey_score_is_one_click_and_a_second_click_changes_it(
    cleo: User, outage: Outage, tmp_path: Path, client: Client
) -> None:
    notice = send(cleo, outage, "survey")
    scores = score_links(text_of(email_to(tmp_path, "c1@example.com", notice)))
    assert sorted(scores) == [1, 2, 3, 4, 5]

    assert client.head(local(scores[1])).status_code == 200  # a link checker only looks
    assert not SurveyResponse.objects.exists()
    first = client.get(local(scores[4]))

    assert first.status_code == 200
    assert "Your score: 4 out of 5." in first.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.customer, response.channel, response.score) == (c1(), "email", 4)

    again = client.get(local(scores[2]))
    assert again.status_code == 200 and "Your score: 2 out of 5." in again.content.decode()
    assert SurveyResponse.objects.get().score == 2  # changed, never a second response

    commented = client.post(
        local(links.survey_url(c1().pk, notice.pk)), {"comment": "Texts were clear."}
    )
    assert commented.status_code == 200 and "Your comment is saved." in commented.content.decode()
    assert SurveyResponse.objects.get().comment == "Texts were clear."
    too_long = client.post(local(links.survey_url(c1().pk, notice.pk)), {"comment": "x" * 2001})
    assert too_long.status_code == 400
    assert "Comment: must be at most 2000 characters" in too_long.content.decode()
    assert SurveyResponse.objects.get().comment == "Texts were clear."
    assert AuditEntry.objects.filter(action__startswith="survey.").count() == 3


def test_survey_links_that_are_not_ours_say_so(cleo: User, outage: Outage, client: Client) -> None:
    survey = send(cleo, outage, "survey")
    acknowledge = send(cleo, outage, "acknowledge")
    c5 = Customer.objects.get(external_id="C5")  # in VIC: never asked
    token = links.customer_token(c1().pk)

    assert client.get(f"/survey/{token}/{survey.pk}/9").status_code == 400
    assert client.get(f"/survey/{token}/{acknowledge.pk}/3").status_code == 404
    never_asked = client.get(local(links.survey_url(c5.pk, survey.pk)) + "/3")
    assert never_asked.status_code == 404
    assert "This survey link is not one of ours" in never_asked.content.decode()
    assert not SurveyResponse.objects.exists()


def test_survey_results_by_segment_and_channel_in_the_console_and_api(
    cleo: User, outage: Outage, client: Client
) -> None:
    notice = send(cleo, outage, "survey")
    c2 = Customer.objects.get(external_id="C2")  # small business
    client.get(local(links.survey_url(c1().pk, notice.pk)) + "/5")
    client.get(local(links.survey_url(c2.pk, notice.pk)) + "/2")
    client.post(local(links.survey_url(c2.pk, notice.pk)), {"comment": "Too slow."})

    client.force_login(cleo)
    page = client.get(f"/notices/{notice.pk}/").content.decode()
    assert f"Survey results for {outage.reference}" in page
    assert "2 responses from 4 customers asked; average score <strong>3.5</strong>" in page
    assert '<th scope="row">small_business</th><td class="num">1</td>' in page
    assert '<th scope="row">email</th><td class="num">2</td><td class="num">3.5</td>' in page
    assert "Too slow." in page

    staff_user_set(actor="t", username="ro", role=Role.VIEWER, password="pw-123456-x")
    token = token_create(actor="t", name="ro", username="ro", scopes=["outages:read"])[1]
    api = Client()
    answer = api.get(
        f"/api/v1/comms/notices/{notice.pk}/survey", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["outage"], body["sent"], body["responses"], body["average"]) == (
        outage.reference,
        4,
        2,
        3.5,
    )
    assert {row["group"]: row["by_score"]["2"] for row in body["by_segment"]} == {
        "consumer": 0,
        "small_business": 1,
    }
    assert api.get(f"/api/v1/comms/notices/{notice.pk}/survey").status_code == 401


def test_the_one_click_pages_speak_the_customers_language(
    cleo: User, outage: Outage, tmp_path: Path, client: Client
) -> None:
    Customer.objects.filter(external_id="C2").update(language="zh")
    Customer.objects.filter(external_id="C3").update(language="vi")
    notice = send(cleo, outage, "survey")
    zh = Customer.objects.get(external_id="C2")
    scores = score_links(text_of(email_to(tmp_path, "c2@example.com", notice)))

    scored = client.get(local(scores[5])).content.decode()
    assert '<html lang="zh">' in scored and "您的评分：5分（满分5分）。" in scored
    assert "还有什么想告诉我们的吗？" in scored and "Your score" not in scored
    page = client.get(local(links.unsubscribe_url(zh.pk))).content.decode()
    assert "服务中断通知仍会发送。" in page and "Unsubscribe" not in page
    assert urgent_help.for_messages("zh")["urgent_help"] in page  # where to get help, in zh
    vi = Customer.objects.get(external_id="C3")
    page = client.get(local(links.unsubscribe_url(vi.pk))).content.decode()
    assert '<html lang="vi">' in page and "Thông báo về sự cố vẫn được gửi." in page
    # A link we cannot read names no customer, so it cannot know their language.
    forged = client.get(local(links.unsubscribe_url(zh.pk)) + "x").content.decode()
    assert '<html lang="en">' in forged and "This link does not work" in forged
