"""Message templates: every shipped default renders and carries what the regulator requires,
typos and sandbox escapes are refused with their line, HTML is escaped, SMS cost is exact."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from typing import Any

import pytest

from amends.comms import templating
from amends.comms.models import (
    CUSTOMER_CHANNELS,
    URGENT_KINDS,
    MessageTemplate,
    NoticeKind,
)
from amends.comms.templating import (
    LANGUAGES,
    MissingTemplate,
    Problem,
    TemplateProblem,
    greeting_name,
    render,
    sample_context,
    sms_info,
    validate,
)
from amends.comms.templating.environment import compile_source
from amends.comms.templating.rendering import render_part

OUTAGE_KINDS = ("acknowledge", "update", "etr_changed", "restored")
OPEN_KINDS = ("acknowledge", "update", "etr_changed")
# Kinds that are not for customers, or not for every channel, by design.
EMAIL_ONLY = {"stakeholder"}
ENGLISH_ONLY = {"stakeholder"}  # regulators and emergency services are written to in English
NO_SOCIAL = {"stakeholder", "survey"}


def shipped() -> list[tuple[str, str, str]]:
    """Every language × kind × channel a default ships for."""
    cases = []
    for language in LANGUAGES:
        for kind in NoticeKind.values:
            if kind in ENGLISH_ONLY and language != "en":
                continue
            channels = ["email"] if kind in EMAIL_ONLY else [str(c) for c in CUSTOMER_CHANNELS]
            if language == "en":
                channels += [] if kind in NO_SOCIAL else ["social"]
                channels += ["webhook"]
            cases += [(language, kind, channel) for channel in channels]
    return cases


def situations(language: str, kind: str) -> list[dict[str, Any]]:
    """The sample recipient, and the same recipient with what is often missing."""
    contexts = [sample_context(language, kind=kind)]
    if kind in OPEN_KINDS:
        contexts.append(sample_context(language, kind=kind))
        contexts[-1]["outage"]["etr"] = None
    contexts.append({**sample_context(language, kind=kind), "message": ""})
    return contexts


def override(body: str, *, channel: str = "sms", subject: str = "", html: str = "") -> Any:
    return MessageTemplate(
        kind="acknowledge",
        channel=channel,
        language="en",
        subject=subject,
        body=body,
        html=html,
        version=1,
        author="test",
    )


def moments(language: str, moment: dt.datetime) -> list[str]:
    """A moment as each datetime style writes it for the sample recipient."""
    source = "{{ t|datetime('short') }}|{{ t|datetime('long') }}|{{ t|datetime('compact') }}"
    context = {"t": moment, "time_zone": "Australia/Sydney"}
    return render_part(
        "text", source, channel="sms", language=language, context=context, origin="test"
    ).split("|")


# --- every default, in every language -----------------------------------------------------


@pytest.mark.parametrize(("language", "kind", "channel"), shipped())
def test_every_default_renders_in_its_own_language(language: str, kind: str, channel: str) -> None:
    for context in situations(language, kind):
        rendered = render(kind, channel, language, context)
        assert rendered.language == language
        assert rendered.text.strip() or (kind == "custom" and not context["message"])
        if channel in ("email", "push"):
            assert rendered.subject.strip() and "\n" not in rendered.subject
        if channel == "email":
            assert rendered.html.startswith("<!DOCTYPE html>")
        if channel == "webhook":
            assert json.loads(rendered.text)["kind"] == kind


@pytest.mark.parametrize(("language", "kind", "channel"), shipped())
def test_every_default_passes_the_save_time_check(language: str, kind: str, channel: str) -> None:
    used, sources = templating.default_sources(kind, channel, language)
    assert used == language
    assert validate(sources, kind=kind, channel=channel) == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", OUTAGE_KINDS)
@pytest.mark.parametrize("channel", ["email", "push", "voice", "sms"])
def test_outage_messages_carry_the_required_content(language: str, kind: str, channel: str) -> None:
    context = sample_context(language, kind=kind)
    outage = context["outage"]
    rendered = render(kind, channel, language, context)
    for text in [rendered.text, rendered.html] if channel == "email" else [rendered.text]:
        assert "000" in text or (language == "en" and "triple zero" in text)
        for name in outage["areas"] + outage["services"]:
            assert name in text
        back = outage["etr"] if kind in OPEN_KINDS else outage["restored_at"]
        assert any(when in text for when in moments(language, back))
        if kind in OPEN_KINDS:
            assert any(when in text for when in moments(language, outage["next_update_by"]))
        if channel == "sms" and kind == "update":
            continue  # the update's own news takes the room of the cause, scale and start
        assert outage["cause"] in text
        if channel != "sms" or kind in ("acknowledge", "etr_changed"):
            assert outage["scale"] in text
            assert any(when in text for when in moments(language, outage["started_at"]))


@pytest.mark.parametrize("language", LANGUAGES)
def test_unknown_restoration_time_is_said_honestly(language: str) -> None:
    context = sample_context(language, kind="acknowledge")
    known = render("acknowledge", "sms", language, context).text
    context["outage"]["etr"] = None
    unknown = render("acknowledge", "sms", language, context).text
    assert not any(when in unknown for when in moments(language, sample_context()["outage"]["etr"]))
    assert unknown != known and "000" in unknown


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", NoticeKind.values)
def test_email_html_is_plain_accessible_and_unsubscribable_when_not_urgent(
    language: str, kind: str
) -> None:
    context = sample_context(language, kind=kind)
    html = render(kind, "email", language, context).html
    used = "en" if kind in EMAIL_ONLY else language
    assert f'<html lang="{ {"zh": "zh-Hans"}.get(used, used) }">' in html
    assert "<h1>" in html and "<img" not in html
    unsubscribable = kind not in URGENT_KINDS and kind != "stakeholder"
    assert (context["unsubscribe_url"] in html) is unsubscribable


# --- SMS budgets --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(set(NoticeKind.values) - EMAIL_ONLY))
def test_english_sms_is_gsm7_in_two_segments(kind: str) -> None:
    for context in situations("en", kind):
        info = sms_info(render(kind, "sms", "en", context).text)
        assert info.encoding == "GSM-7", info.ucs2_characters  # a curly quote would cost 2.3×
        assert info.segments <= 2, info.characters


@pytest.mark.parametrize("language", ["zh", "vi"])
@pytest.mark.parametrize("kind", sorted(set(NoticeKind.values) - EMAIL_ONLY))
def test_chinese_and_vietnamese_sms_fit_three_segments(language: str, kind: str) -> None:
    for context in situations(language, kind):
        info = sms_info(render(kind, "sms", language, context).text)
        assert info.segments <= 3, info.characters


def test_english_social_posts_fit_a_post() -> None:
    for kind in sorted(set(NoticeKind.values) - NO_SOCIAL):
        for context in situations("en", kind):
            assert len(render(kind, "social", "en", context).text) <= 300


# --- sms_info at the exact boundaries -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "characters", "segments", "per_segment"),
    [
        ("a" * 160, "GSM-7", 160, 1, 160),
        ("a" * 161, "GSM-7", 161, 2, 153),
        ("a" * 306, "GSM-7", 306, 2, 153),
        ("a" * 307, "GSM-7", 307, 3, 153),
        ("a" * 158 + "€", "GSM-7", 160, 1, 160),
        ("a" * 159 + "€", "GSM-7", 161, 2, 153),
        ("[]{}~^\\|", "GSM-7", 16, 1, 160),
        ("中" * 70, "UCS-2", 70, 1, 70),
        ("中" * 71, "UCS-2", 71, 2, 67),
        ("中" * 134, "UCS-2", 134, 2, 67),
        ("中" * 135, "UCS-2", 135, 3, 67),
        ("😀" * 35, "UCS-2", 70, 1, 70),
        ("😀" * 36, "UCS-2", 72, 2, 67),
        ("", "GSM-7", 0, 1, 160),
    ],
)
def test_sms_segments_at_the_limits(
    text: str, encoding: str, characters: int, segments: int, per_segment: int
) -> None:
    info = sms_info(text)
    assert (info.encoding, info.characters, info.segments, info.per_segment) == (
        encoding,
        characters,
        segments,
        per_segment,
    )


def test_an_escape_pair_is_never_split_across_segments() -> None:
    # 306 septets would be two segments, but the € cannot start in the last septet of the first.
    info = sms_info("a" * 152 + "€" + "a" * 152)
    assert (info.characters, info.segments) == (306, 3)


def test_sms_info_names_the_characters_that_forced_ucs2() -> None:
    info = sms_info("It’s back – reply “STILL OUT” if not. Ça va, £5 ok")
    assert info.encoding == "UCS-2"
    assert info.ucs2_characters == ["’", "–", "“", "”"]  # Ç and £ are in the GSM alphabet


# --- save-time validation ----------------------------------------------------------------


def test_a_misspelt_variable_is_refused_with_its_line_and_the_real_name() -> None:
    problems = validate({"text": "Hi\n\n{{ custmer.first_name }}"}, kind="update", channel="sms")
    assert problems == [Problem("text", 3, "unknown variable 'custmer' (did you mean 'customer'?)")]


def test_a_misspelt_field_is_refused_even_in_a_branch_the_sample_does_not_take() -> None:
    source = "{% if outage.etr %}\nback soon\n{% else %}\n{{ outage.nxt_update_by }}\n{% endif %}"
    problems = validate({"text": source}, kind="acknowledge", channel="sms")
    assert problems == [
        Problem(
            "text",
            4,
            "unknown variable 'outage.nxt_update_by' (did you mean 'outage.next_update_by'?)",
        )
    ]


def test_render_reports_an_unknown_variable_with_its_line() -> None:
    with pytest.raises(TemplateProblem) as raised:
        render("acknowledge", "sms", "en", sample_context(), override=override("Hi\n{{ nobody }}"))
    assert (raised.value.part, raised.value.line) == ("text", 2)
    assert raised.value.message == "unknown variable 'nobody'"
    assert "acknowledge/sms/en v1" in str(raised.value)


def test_a_syntax_error_is_refused_with_its_line() -> None:
    problems = validate(
        {"subject": "Outage", "text": "Hi\n{% if outage.etr %}\nsoon\n{% endfor %}"},
        kind="update",
        channel="email",
    )
    assert [(p.part, p.line) for p in problems] == [("text", 4)]
    assert "endfor" in problems[0].message


def test_a_date_printed_without_a_guard_is_refused_for_the_unknown_etr_case() -> None:
    problems = validate(
        {"text": "Back by\n{{ outage.etr|datetime }}"}, kind="acknowledge", channel="sms"
    )
    assert problems == [
        Problem(
            "text",
            2,
            "while the restoration time is unknown: a date here is unknown "
            "(None); put it inside {% if … %} and say what we know",
        )
    ]


def test_a_credit_template_is_also_checked_for_a_refund() -> None:
    source = "{% if credit.method == 'refund' %}{{ credit.amount + 'x' }}{% endif %}Thanks"
    problems = validate({"text": source}, kind="credit_applied", channel="sms")
    assert problems and all(p.message.startswith("for a refund: ") for p in problems)
    assert validate({"text": source}, kind="apology", channel="sms") == []


def test_none_is_never_printed() -> None:
    context = sample_context(kind="acknowledge")
    context["outage"]["etr"] = None
    with pytest.raises(TemplateProblem, match=r"empty \(None\)"):
        render("acknowledge", "sms", "en", context, override=override("Back {{ outage.etr }}"))


def test_required_and_foreign_parts_are_named() -> None:
    assert validate({"subject": "", "text": "", "html": ""}, kind="update", channel="email") == [
        Problem("subject", None, "this part is required"),
        Problem("text", None, "this part is required"),
    ]
    assert validate({"subject": "Hi", "text": "Hi"}, kind="update", channel="sms") == [
        Problem("subject", None, "sms messages have no subject; leave it empty")
    ]


def test_a_webhook_body_must_be_json() -> None:
    problems = validate(
        {"text": '{"reference": {{ outage.reference }}}'}, kind="update", channel="webhook"
    )
    assert len(problems) == 1 and "not valid JSON" in problems[0].message


# --- the sandbox -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ outage.areas.__class__.__mro__ }}",
        "{{ outage.started_at.__class__.__subclasses__() }}",
    ],
)
def test_the_sandbox_blocks_python_internals(source: str) -> None:
    with pytest.raises(TemplateProblem, match="unsafe"):
        render("acknowledge", "sms", "en", sample_context(), override=override(source))
    assert "unsafe" in validate({"text": source}, kind="acknowledge", channel="sms")[0].message


def test_a_template_cannot_change_the_shared_context() -> None:
    context = sample_context()
    with pytest.raises(TemplateProblem):
        render(
            "acknowledge",
            "sms",
            "en",
            context,
            override=override("{{ outage.areas.append('Bondi') }}"),
        )
    assert context["outage"]["areas"] == ["Parramatta", "Wagga Wagga"]


def test_html_part_is_escaped_and_text_part_is_not() -> None:
    context = sample_context(kind="acknowledge")
    context["outage"]["cause"] = "<script>alert('x')</script>"
    rendered = render("acknowledge", "email", "en", context)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in rendered.html
    assert "<script>alert('x')</script>" in rendered.text


def test_a_subject_is_one_line_whatever_the_name_holds() -> None:
    context = sample_context(kind="custom")
    context["operator"]["name"] = "Wattle\nBcc: everyone@example.com"
    assert render("custom", "email", "en", context).subject == (
        "A message from Wattle Bcc: everyone@example.com"
    )


# --- languages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "used"),
    [
        ("en", "en"),
        ("zh-Hans-AU", "zh"),
        ("zh_CN", "zh"),
        ("vi-VN", "vi"),
        ("fr", "en"),
        ("../../etc", "en"),
        ("", "en"),
    ],
)
def test_language_falls_back_by_primary_subtag_then_to_english(tag: str, used: str) -> None:
    rendered = render("acknowledge", "sms", tag, sample_context(used, kind="acknowledge"))
    assert rendered.language == used
    assert (
        rendered.text
        == render("acknowledge", "sms", used, sample_context(used, kind="acknowledge")).text
    )


def test_a_kind_without_a_template_on_a_channel_is_missing_not_broken() -> None:
    assert render("stakeholder", "email", "vi", sample_context()).language == "en"
    with pytest.raises(MissingTemplate):
        render("stakeholder", "sms", "en", sample_context())
    with pytest.raises(MissingTemplate):
        render("acknowledge", "fax", "en", sample_context())


def test_an_override_replaces_the_default_and_uses_its_own_language() -> None:
    template = override("{{ outage.areas|join_and }}: {{ outage.etr|datetime }}")
    template.language = "vi"
    rendered = render("acknowledge", "sms", "en", sample_context("vi"), override=template)
    assert (rendered.language, rendered.text) == (
        "vi",
        "Cabramatta và Bankstown: 15:30 thứ Hai 27/4",
    )


# --- filters and the sample ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "short", "long", "compact"),
    [
        ("en", "Mon 27 Apr, 3:30 pm", "Monday 27 April at 3:30 pm", "3:30pm 27/4"),
        ("zh", "4月27日（周一）15:30", "4月27日星期一15点30分", "4月27日15:30"),
        ("vi", "15:30 thứ Hai 27/4", "15 giờ 30, thứ Hai ngày 27 tháng 4", "15:30 27/4"),
    ],
)
def test_datetime_in_each_language(language: str, short: str, long: str, compact: str) -> None:
    assert moments(language, sample_context()["outage"]["etr"]) == [short, long, compact]


def test_datetime_uses_the_recipients_time_zone() -> None:
    context = {"t": dt.datetime(2026, 4, 27, 5, 30, tzinfo=dt.UTC), "time_zone": "Australia/Perth"}
    text = render_part(
        "text", "{{ t|datetime }}", channel="sms", language="en", context=context, origin="test"
    )
    assert text == "Mon 27 Apr, 1:30 pm"


@pytest.mark.parametrize(
    ("language", "items", "expected"),
    [
        ("en", [], ""),
        ("en", ["Parramatta"], "Parramatta"),
        ("en", ["a", "b"], "a and b"),
        ("en", ["a", "b", "c"], "a, b and c"),
        ("zh", ["a", "b", "c"], "a、b和c"),
        ("vi", ["a", "b", "c"], "a, b và c"),
    ],
)
def test_join_and(language: str, items: list[str], expected: str) -> None:
    text = render_part(
        "text",
        "{{ items|join_and }}",
        channel="sms",
        language=language,
        context={"items": items},
        origin="test",
    )
    assert text == expected


@pytest.mark.parametrize(
    ("language", "amount", "expected"),
    [
        ("en", Decimal("18.4"), "$18.40"),
        ("en", 1234.5, "$1,234.50"),
        ("en", Decimal("0.005"), "$0.01"),
        ("zh", Decimal("1234.5"), "1,234.50澳元"),
        ("vi", Decimal("1234.5"), "1.234,50 đô la Úc"),
    ],
)
def test_money(language: str, amount: object, expected: str) -> None:
    text = render_part(
        "text",
        "{{ amount|money }}",
        channel="sms",
        language=language,
        context={"amount": amount},
        origin="test",
    )
    assert text == expected


def test_money_refuses_text_that_is_already_formatted() -> None:
    with pytest.raises(TemplateProblem, match="money needs a number"):
        render_part(
            "text",
            "{{ amount|money }}",
            channel="sms",
            language="en",
            context={"amount": "$18.40"},
            origin="test",
        )


def test_greeting_name_is_the_preferred_name_or_a_neutral_word() -> None:
    assert greeting_name(" Sam ", "en") == "Sam"
    assert [greeting_name("", tag) for tag in ("en", "zh-Hans", "vi", "fr")] == [
        "there",
        "尊敬的客户",
        "quý khách",
        "there",
    ]


def test_sample_context_is_a_fresh_copy_and_only_as_restored_as_the_kind() -> None:
    first = sample_context(kind="acknowledge")
    first["outage"]["areas"].append("Bondi")
    assert sample_context()["outage"]["areas"] == ["Parramatta", "Wagga Wagga"]
    assert first["outage"]["restored_at"] is None
    assert sample_context(kind="restored")["outage"]["restored_at"] is not None


def test_every_variable_is_in_the_sample() -> None:
    context = sample_context()
    for name in templating.VARIABLES:
        value: Any = context
        for key in name.split("."):
            value = value[key]


# --- speed -------------------------------------------------------------------------------


def test_twenty_thousand_sms_render_in_under_two_seconds() -> None:
    context = sample_context(kind="acknowledge")
    render("acknowledge", "sms", "en", context)
    hits = compile_source.cache_info().hits
    started = time.perf_counter()
    for _ in range(20_000):
        render("acknowledge", "sms", "en", context)
    assert time.perf_counter() - started < 2.0
    assert compile_source.cache_info().hits - hits == 20_000  # parsed once, not 20,000 times


def test_an_unknown_filter_is_a_problem_with_its_line() -> None:
    problems = validate(
        {"text": "Hello\n{{ customer.first_name|shout }}"}, kind="custom", channel="sms"
    )
    assert [(p.part, p.line) for p in problems] == [("text", 2)]
    assert "shout" in problems[0].message
