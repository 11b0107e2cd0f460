"""True wording (issue 12, items 6 and 7), as customers read it: urgent help that is right for
the operator's country in every language, a past-tense "what happened" once it is over,
singular and plural, the notice's own words in SMS and push (or the preview says they are
not), and English SMS that fit two GSM-7 segments for the demo operator."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.utils import timezone

from amends.comms import dispatch, templating
from amends.comms.models import Notice
from amends.comms.services import notice_create, notice_submit
from amends.comms.templating.environment import TEMPLATES_DIR
from amends.comms.templating.rendering import render_part
from amends.core import urgent_help
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_restore, outage_transition
from tests.factories import build_operator

BONUS = "You get 10 GB bonus data"
SUMMARY_NOW = "Internet and mobile services are down. Our engineers are on it."
WHAT_HAPPENED = "Roadworks cut a fibre cable near Sydney exchange; we spliced it by 2 pm."
CUSTOMER_KINDS = ("acknowledge", "update", "etr_changed", "restored", "still_out_check")
AFTER_KINDS = ("restored", "apology", "credit_applied")
# What must never be said again: an emergency call does not work "from any phone".
FALSE_PROMISES = (
    "any phone",
    "no signal",
    "triple zero works",
    "任何电话",
    "即使您的手机没有信号",
    "bất kỳ điện thoại nào",
    "kể cả khi điện thoại di động không có sóng",
)


# --- urgent help ------------------------------------------------------------------------


def test_no_shipped_template_promises_that_any_phone_reaches_000() -> None:
    for path in TEMPLATES_DIR.rglob("*.j2"):
        source = path.read_text("utf-8")
        for promise in FALSE_PROMISES:
            assert promise not in source, f"{path}: {promise!r}"
    for language in ("en", "zh", "vi"):
        text = urgent_help.urgent_help("AU", language) + urgent_help.urgent_help_short(
            "AU", language
        )
        assert "000" in text
        for promise in FALSE_PROMISES:
            assert promise not in text


@pytest.mark.parametrize(
    ("language", "coverage", "alternative"),
    [
        ("en", "needs coverage from some network", "a landline, another phone"),
        ("zh", "需要有某个网络的信号", "固定电话"),
        ("vi", "cần có sóng của một mạng nào đó", "điện thoại bàn"),
    ],
)
@pytest.mark.parametrize("kind", ["acknowledge", "update", "etr_changed", "restored"])
def test_voice_says_an_emergency_call_needs_coverage_and_what_to_do_without(
    kind: str, language: str, coverage: str, alternative: str
) -> None:
    context = templating.sample_context(language, kind=kind)
    script = templating.render(kind, "voice", language, context).text
    assert coverage in script and alternative in script and "106" in script
    assert "112" in script


def test_the_operators_urgent_help_replaces_the_english_text_only() -> None:
    own = "In an emergency call 000. Our shops lend phones during outages."
    with override_settings(AMENDS_URGENT_HELP=own):
        english = urgent_help.for_messages("en")["urgent_help"]
        chinese = urgent_help.for_messages("zh-Hans-AU")["urgent_help"]
        arabic = urgent_help.for_messages("ar")["urgent_help"]  # no shipped text: English
    assert english == own == arabic
    assert chinese == urgent_help.LONG["AU"]["zh"]


# --- SMS that fit -----------------------------------------------------------------------


def demo_context(kind: str, message: str) -> dict[str, Any]:
    """The demo operator's recipient: its name, help line and a link of the demo's length."""
    context = templating.sample_context("en", kind=kind)
    context["operator"] = {"name": "Amends Telecom"}
    context["help_line"] = "13 00 00"
    context["outage"]["title"] = "Internet and mobile outage: Greater Sydney and Parramatta"
    context["outage_url"] = "http://127.0.0.1:8000/status/OUT-20261207-0001/"
    context["status_page_url"] = "http://127.0.0.1:8000/status/"
    context["credit"]["url"] = "http://127.0.0.1:8000/c/h6htof7hcxoszjfkszepdebsh4"
    context["message"] = message
    return context


@pytest.mark.parametrize("message", ["", f"{BONUS}."])
@pytest.mark.parametrize("kind", [*CUSTOMER_KINDS, "apology", "credit_applied", "custom"])
def test_each_english_sms_is_gsm7_in_two_segments_for_the_demo(kind: str, message: str) -> None:
    text = templating.render(kind, "sms", "en", demo_context(kind, message)).text
    info = templating.sms_info(text)
    assert info.encoding == "GSM-7", info.ucs2_characters
    assert info.segments <= 2, (info.characters, text)
    for character in "×÷‘’“”–—…":
        assert character not in text


@pytest.mark.parametrize("kind", ["update", "restored", "still_out_check", "apology"])
@pytest.mark.parametrize("channel", ["sms", "push"])
def test_the_notices_own_words_reach_sms_and_push(kind: str, channel: str) -> None:
    rendered = templating.render(kind, channel, "en", demo_context(kind, f"{BONUS}."))
    assert BONUS in rendered.text


def test_a_credit_sms_is_the_amount_and_a_link_not_the_formula() -> None:
    context = demo_context("credit_applied", "")
    context["credit"]["explanation"] = (
        "Home Internet (S1): 14 h 05 min × $89.00/month ÷ 730 h = $1.72; Mobile (S2): "
        "14 h 05 min × $35.00/month ÷ 730 h = $0.68; exact sum rounded once: $2.39; total $2.39"
    )
    text = templating.render("credit_applied", "sms", "en", context).text
    started = render_part(
        "text",
        "{{ t|datetime('compact') }}",
        channel="sms",
        language="en",
        context={"t": context["outage"]["started_at"], "time_zone": "Australia/Sydney"},
        origin="test",
    )
    assert text == (
        f"Hi Priya, we've credited your account $18.40 for the outage of {started}, on your "
        "next bill.\nWhy this amount: http://127.0.0.1:8000/c/h6htof7hcxoszjfkszepdebsh4\n"
        "Sorry. Amends Telecom"
    )


# --- what happened, singular and plural -------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh", "vi"])
@pytest.mark.parametrize("kind", AFTER_KINDS)
@pytest.mark.parametrize("channel", ["email", "push", "voice", "sms"])
def test_messages_after_the_outage_never_quote_the_present_tense_summary(
    language: str, kind: str, channel: str
) -> None:
    context = templating.sample_context(language, kind=kind)
    context["outage"]["summary"] = SUMMARY_NOW
    rendered = templating.render(kind, channel, language, context)
    said = rendered.subject + rendered.text + rendered.html
    assert SUMMARY_NOW not in said and "are down" not in said
    if channel == "email" or (channel in ("push", "voice") and kind != "credit_applied"):
        assert context["outage"]["what_happened"] in said
    context["outage"]["what_happened"] = ""  # e.g. restored while the rest is still out
    rendered = templating.render(kind, channel, language, context)
    assert SUMMARY_NOW not in rendered.text + rendered.html


@pytest.mark.parametrize(
    ("services", "back", "rely"),
    [
        (["Mobile"], "your Mobile in Parramatta and Wagga Wagga is back", "rely on it."),
        (
            ["Home Internet", "Mobile"],
            "your Home Internet and Mobile in Parramatta and Wagga Wagga are back",
            "rely on them.",
        ),
    ],
)
def test_one_service_is_singular_two_are_plural(services: list[str], back: str, rely: str) -> None:
    restored = templating.sample_context("en", kind="restored")
    restored["outage"]["services"] = services
    assert back in templating.render("restored", "sms", "en", restored).text
    apology = templating.sample_context("en", kind="apology")
    apology["outage"]["services"] = services
    assert rely in templating.render("apology", "email", "en", apology).text


# --- end to end: what the outbox writes -------------------------------------------------


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    build_operator()
    Customer.objects.filter(external_id="C2").update(
        email="c2@example.com", channel_order="email;sms"
    )
    with override_settings(DATA_DIR=tmp_path, AMENDS_APPROVAL_THRESHOLD=100):
        yield outage_declare(
            actor="nmc",
            title="Exchange fault",
            summary=SUMMARY_NOW,
            cause_public="a fibre cut",
            scope_items=[ScopeSpec(kind="state", state="NSW")],
        ).outage


def send(cleo: User, outage: Outage, kind: str, message: str = "") -> Notice:
    notice = notice_create(
        actor=cleo, kind=kind, audience="all_affected", outage=outage, message=message
    )
    notice = notice_submit(actor=cleo, notice=notice)
    assert dispatch.run_notice(notice.pk) in ("done", "later")
    return notice


def sms_to(tmp_path: Path, notice: Notice, external_id: str) -> str:
    customer = Customer.objects.get(external_id=external_id)
    (path,) = (tmp_path / "outbox" / "sms").glob(f"n{notice.pk}-c{customer.pk}-sms.txt")
    return path.read_text().split("\n\n", 1)[1].strip()


def email_to(tmp_path: Path, notice: Notice, external_id: str) -> str:
    customer = Customer.objects.get(external_id=external_id)
    (path,) = (tmp_path / "outbox" / "email").glob(f"n{notice.pk}-c{customer.pk}-*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def compact(moment: Any) -> str:
    return render_part(
        "text",
        "{{ t|datetime('compact') }}",
        channel="sms",
        language="en",
        context={"t": moment, "time_zone": "Australia/Sydney"},
        origin="test",
    )


@pytest.mark.django_db
def test_the_bonus_data_reaches_the_customers_sms(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    notice = send(cleo, outage, "update", f"{BONUS}.")
    text = sms_to(tmp_path, notice, "C3")  # C1's SMS waits: their mobile is down
    outage.refresh_from_db()
    assert text == (
        f"Outage update: {BONUS}.\nYour Home Internet in Wagga Wagga: no fix time yet; next "
        f"update {compact(outage.next_update_by)}.\n000 works with any network's signal.\n"
        f"http://127.0.0.1:8000/status/{outage.reference}/"
    )


@pytest.mark.django_db
def test_after_resolution_customers_read_what_happened_in_their_number(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    outage = outage_transition(
        actor="nmc", outage=outage, to="resolved", resolution_summary=WHAT_HAPPENED
    ).outage
    restored = send(cleo, outage, "restored", f"{BONUS}.")
    back = compact(outage.restored_at)
    assert sms_to(tmp_path, restored, "C1") == (
        f"Hi there, your Home Internet and Mobile in Sydney are back since {back}. Sorry for "
        f"the outage (a fibre cut). {BONUS}.\nNot working? Restart modem or phone. Still out? "
        "Reply STILL OUT.\n000 works with any network's signal."
    )
    assert sms_to(tmp_path, restored, "C3").startswith(
        f"Hi there, your Home Internet in Wagga Wagga is back since {back}."
    )
    body = email_to(tmp_path, restored, "C2")
    assert f"What happened: {WHAT_HAPPENED}\n" in body and SUMMARY_NOW not in body
    apology = send(cleo, outage, "apology")
    body = email_to(tmp_path, apology, "C2")
    assert "cut your Home Internet in Sydney, and we know how much you rely on it." in body
    assert f"What happened: {WHAT_HAPPENED}\n" in body and "are down" not in body


@pytest.mark.django_db
def test_restored_before_the_outage_is_resolved_says_something_neutral_and_past(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    outage_restore(actor="nmc", outage=outage, item_ids=None, at=timezone.now())
    notice = send(cleo, outage, "restored")
    body = email_to(tmp_path, notice, "C2")
    assert "What happened: There was an outage in our network, likely from a fibre cut.\n" in body
    assert SUMMARY_NOW not in body


@pytest.mark.django_db
def test_the_preview_says_when_the_own_words_are_not_in_the_sms(cleo: User, outage: Outage) -> None:
    client = Client()
    client.force_login(cleo)
    for kind, left_out in (("acknowledge", True), ("update", False)):
        notice = notice_create(
            actor=cleo, kind=kind, audience="all_affected", outage=outage, message=f"{BONUS}."
        )
        page = client.get(f"/notices/{notice.pk}/").content.decode()
        said = "Your own words are not in the SMS message (en)." in page
        assert said == left_out, kind
