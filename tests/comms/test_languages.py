"""Every language, all the way: what a zh, vi or ar customer really receives, what the
preview says about who gets English, and the replies to their keywords."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, override_settings

from amends.comms import dispatch, preview
from amends.comms.inbound import receive_sms
from amends.comms.models import Notice
from amends.comms.services import notice_create, notice_submit
from amends.comms.templating import scale_phrase
from amends.comms.templating.rendering import render_part
from amends.core.audit import AuditEntry
from amends.core.errors import AmendsError
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.core.tokens import token_create
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.outages.queries import localized
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_translate
from tests.factories import build_operator, give_contacts

pytestmark = pytest.mark.django_db

SYDNEY = ZoneInfo("Australia/Sydney")
STARTED = dt.datetime(2026, 4, 27, 4, 5, tzinfo=SYDNEY)
ETR = dt.datetime(2030, 4, 29, 15, 30, tzinfo=SYDNEY)  # a Monday, in the future
NEXT_UPDATE = dt.datetime(2030, 4, 29, 11, 0, tzinfo=SYDNEY)
ZH = {
    "title": "悉尼交换机故障",
    "public_summary": "交换机故障导致新州和维州的宽带中断。",
    "cause_public": "一条光纤被挖断",
}
# The operator's English words: none of them may reach a customer who reads Chinese.
ENGLISH_WORDS = ("Exchange", "fault", "fibre", "cut", "broadband", "down", "about", "services")


@pytest.fixture
def outage() -> Outage:
    """C2 and C6 read Chinese (C2 by SMS only), C5 Arabic, C3 Vietnamese; NSW and VIC down."""
    build_operator()
    give_contacts()
    Customer.objects.filter(external_id="C2").update(language="zh", email="")
    Customer.objects.filter(external_id="C6").update(language="zh-Hans-AU")
    Customer.objects.filter(external_id="C5").update(language="ar")
    Customer.objects.filter(external_id="C3").update(language="vi")
    return outage_declare(
        actor="nmc",
        title="Exchange fault in Sydney",
        summary="An exchange fault has cut broadband in NSW and VIC.",
        cause_public="A fibre cut.",
        started_at=STARTED,
        etr=ETR,
        next_update_by=NEXT_UPDATE,
        scope_items=[ScopeSpec(kind="state", state="NSW"), ScopeSpec(kind="state", state="VIC")],
    ).outage


def acknowledge(cleo: User, outage: Outage) -> Notice:
    notice = notice_create(actor=cleo, kind="acknowledge", audience="all_affected", outage=outage)
    return notice_submit(actor=cleo, notice=notice)


def sms_of(outbox: Path, notice: Notice, external_id: str) -> str:
    customer = Customer.objects.get(external_id=external_id)
    return (outbox / "sms" / f"n{notice.pk}-c{customer.pk}-sms.txt").read_text()


def email_of(outbox: Path, notice: Notice, external_id: str) -> tuple[str, str]:
    customer = Customer.objects.get(external_id=external_id)
    [path] = (outbox / "email").glob(f"n{notice.pk}-c{customer.pk}-*")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(message["Subject"]).strip(), body.get_content()


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_a_chinese_customer_reads_the_outage_in_chinese(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    outage_translate(actor="nmc", outage=outage, language="zh", texts=ZH)
    with override_settings(DATA_DIR=tmp_path):
        notice = acknowledge(cleo, outage)
        dispatch.run_notice(notice.pk)
    sms = sms_of(tmp_path / "outbox", notice, "C2")
    assert sms.split("\n\n", 1)[1].splitlines()[:2] == [
        "抱歉，您在Sydney的家庭宽带自4月27日4:05起中断，影响约 7 项服务（NSW、VIC）。"
        "可能原因：一条光纤被挖断。",
        "预计4月29日15:30恢复，4月29日11:00前再次更新。",
    ]
    subject, text = email_of(tmp_path / "outbox", notice, "C6")  # zh-Hans-AU
    assert subject == "我们已获悉您的家庭宽带服务中断"
    lines = text.splitlines()
    for line in (
        "受影响服务：Melbourne的家庭宽带",
        "影响范围：约 7 项服务（NSW、VIC）",
        "开始时间：4月27日（周一）04:05",
        "可能原因：一条光纤被挖断",
        "预计恢复：4月29日（周一）15:30（目前的最佳估计）",
        "下次更新：4月29日（周一）11:00之前",
    ):
        assert line in lines
    for word in ENGLISH_WORDS:
        assert word not in sms and word not in text


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_the_english_customer_still_reads_the_english_words(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    outage_translate(actor="nmc", outage=outage, language="zh", texts=ZH)
    with override_settings(DATA_DIR=tmp_path):
        notice = acknowledge(cleo, outage)
        dispatch.run_notice(notice.pk)
    _, text = email_of(tmp_path / "outbox", notice, "C4")
    assert "How widespread: about 7 services in NSW, VIC" in text.splitlines()
    assert "Likely cause: A fibre cut" in text.splitlines()


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_an_arabic_customer_gets_english_and_the_preview_says_so(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    notice = notice_create(actor=cleo, kind="acknowledge", audience="all_affected", outage=outage)
    found = preview.notice_preview(notice)
    assert "ar: 1 recipient gets English (no Arabic templates)" in [str(f) for f in found.fallbacks]
    with override_settings(DATA_DIR=tmp_path):
        notice_submit(actor=cleo, notice=notice)
        dispatch.run_notice(notice.pk)
    subject, text = email_of(tmp_path / "outbox", notice, "C5")
    assert subject == "We know about the outage affecting your Home Internet"
    assert "How widespread: about 7 services in NSW, VIC" in text.splitlines()


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_without_a_translation_the_preview_says_chinese_readers_get_the_english_words(
    cleo: User, outage: Outage, client: Client
) -> None:
    notice = notice_create(actor=cleo, kind="acknowledge", audience="all_affected", outage=outage)
    reason = "no Chinese translation of the title, summary and cause"
    expected = f"zh: 2 recipients read the outage's own words in English ({reason})"
    assert expected in [str(f) for f in preview.notice_preview(notice).fallbacks]
    client.force_login(cleo)
    page = client.get(f"/notices/{notice.pk}/").content.decode()
    assert expected.replace("'", "&#x27;") in page
    assert 'Arabic (ar) <small class="muted">gets English</small>' in page
    # Given only the title, the summary and cause are still English for them.
    outage_translate(actor="nmc", outage=outage, language="zh", texts={"title": ZH["title"]})
    notice = Notice.objects.get(pk=notice.pk)
    [fallback] = [f for f in preview.notice_preview(notice).fallbacks if f.language == "zh"]
    assert fallback.reason == "no Chinese translation of the summary and cause"
    outage_translate(actor="nmc", outage=outage, language="zh", texts=ZH)
    notice = Notice.objects.get(pk=notice.pk)
    languages = {f.language for f in preview.notice_preview(notice).fallbacks}
    assert languages == {"ar", "vi"}  # Chinese readers are served all the way now


def test_status_from_a_chinese_customers_mobile_is_answered_in_chinese(outage: Outage) -> None:
    outage_translate(actor="nmc", outage=outage, language="zh", texts=ZH)
    c2 = Customer.objects.get(external_id="C2")
    assert receive_sms(sender=c2.mobile, text="STATUS").reply == (
        "悉尼交换机故障：您的服务仍受影响。预计恢复时间：4月29日（周一）15:30。"
        "最新情况：http://127.0.0.1:8000/status/OUT-2026-0001/"
    )
    assert receive_sms(sender=c2.mobile, text="stop").reply == (
        "您将不再收到我们的服务中断短信。回复START可重新接收。"
    )
    assert receive_sms(sender=c2.mobile, text="start").reply == "您将重新收到我们的服务中断短信。"


def test_status_in_vietnamese_and_english_for_a_language_we_do_not_serve(outage: Outage) -> None:
    c3, c5 = Customer.objects.get(external_id="C3"), Customer.objects.get(external_id="C5")
    assert receive_sms(sender=c3.mobile, text="status").reply == (
        "Exchange fault in Sydney: dịch vụ của quý khách vẫn bị ảnh hưởng. Dự kiến khôi phục: "
        "15:30 ngày 29/4. Cập nhật: http://127.0.0.1:8000/status/OUT-2026-0001/"
    )  # no Vietnamese title given: the English one
    Customer.objects.filter(pk=c5.pk).update(mobile="+61412345699")
    assert receive_sms(sender="+61412345699", text="status").reply == (
        "Exchange fault in Sydney: your service is still affected. Expected back: "
        "Mon 29 Apr 15:30. Updates: http://127.0.0.1:8000/status/OUT-2026-0001/"
    )


def test_translations_are_checked_audited_and_fall_back_per_field(outage: Outage) -> None:
    with pytest.raises(AmendsError) as refused:
        outage_translate(actor="nmc", outage=outage, language="ar", texts=ZH)
    assert refused.value.field == "language"
    with pytest.raises(AmendsError) as refused:
        outage_translate(actor="nmc", outage=outage, language="zh", texts={"reference": "x"})
    assert refused.value.field == "reference"
    outage = outage_translate(
        actor="nmc", outage=outage, language="zh", texts={"cause_public": " 一条光纤被挖断 "}
    )
    assert localized(outage, "cause_public", "zh-Hans-AU") == "一条光纤被挖断"
    assert localized(outage, "title", "zh") == "Exchange fault in Sydney"  # not given
    assert localized(outage, "cause_public", "vi") == "A fibre cut."
    assert localized(outage, "resolution_summary", "zh") == ""  # not a field (yet)
    entry = AuditEntry.objects.filter(action="outage.translated").get()
    assert entry.after == {"zh": {"cause_public": "一条光纤被挖断"}}
    outage = outage_translate(actor="nmc", outage=outage, language="zh", texts={"title": ""})
    assert outage.translations == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("en,ZH", "AMENDS_LANGUAGES: 'ZH' is not a lower-case language code"),
        ("zh,vi", "AMENDS_LANGUAGES must include en"),
    ],
)
def test_a_bad_languages_setting_stops_the_process_naming_it(value: str, message: str) -> None:
    env = {**os.environ, "AMENDS_LANGUAGES": value, "DJANGO_SETTINGS_MODULE": "amends.settings"}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import amends.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert message in done.stderr


def test_the_commander_gives_the_chinese_words_in_the_console_api_and_cli(
    outage: Outage, client: Client
) -> None:
    nmc = staff_user_set(actor="t", username="nmc", role=Role.COMMANDER, password="pw-123456-x")
    client.force_login(nmc)
    page = client.get(f"/outages/{outage.reference}/").content.decode()
    assert 'id="translation-zh"' in page and 'id="translation-vi"' in page
    assert 'id="translation-ar"' not in page  # not served: nothing to translate into
    posted = client.post(
        f"/outages/{outage.reference}/translations/zh/",
        {"tr-zh-title": ZH["title"], "tr-zh-cause_public": ZH["cause_public"]},
    )
    assert posted.status_code == 302
    outage.refresh_from_db()
    assert outage.translations == {"zh": {"title": ZH["title"], "cause_public": ZH["cause_public"]}}
    refused = client.post(f"/outages/{outage.reference}/translations/ar/", {"tr-ar-title": "x"})
    assert "is not a language customers are served in" in client.get(
        refused["Location"]
    ).content.decode().replace("&#x27;", "'")

    token = token_create(
        actor="t", name="nms", username="nmc", scopes=["outages:read", "outages:write"]
    )[1]
    headers = {"Authorization": f"Bearer {token}"}
    put = client.put(
        f"/api/v1/outages/{outage.reference}/translations/vi",
        data={"title": "Sự cố tổng đài Sydney", "cause_public": "đứt cáp quang"},
        content_type="application/json",
        headers=headers,
    )
    assert put.status_code == 200, put.content
    assert put.json()["translations"]["vi"] == {
        "title": "Sự cố tổng đài Sydney",
        "cause_public": "đứt cáp quang",
    }
    unknown = client.put(
        f"/api/v1/outages/{outage.reference}/translations/xx",
        data={"title": "?"},
        content_type="application/json",
        headers=headers,
    )
    assert unknown.status_code == 400 and unknown.json()["field"] == "language"

    out = StringIO()
    call_command(
        "outage",
        "translate",
        outage.reference,
        "--language",
        "zh",
        "--summary",
        ZH["public_summary"],
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["translations"]["zh"] == {
        "public_summary": ZH["public_summary"]
    }
    actions = AuditEntry.objects.filter(action="outage.translated").values_list("actor", flat=True)
    assert sorted(actions) == ["cli", "nmc", "token:nms"]  # each change audited, by whom


def test_the_cli_and_api_previews_say_who_gets_english(
    cleo: User, outage: Outage, client: Client
) -> None:
    notice = notice_create(actor=cleo, kind="acknowledge", audience="all_affected", outage=outage)
    arabic = "ar: 1 recipient gets English (no Arabic templates)"
    out = StringIO()
    call_command("notice", "preview", str(notice.pk), stdout=out)
    assert f"  in English: {arabic}" in out.getvalue().splitlines()
    token = token_create(actor="t", name="crm", username="cleo", scopes=["outages:read"])[1]
    found = client.get(
        f"/api/v1/comms/notices/{notice.pk}/preview", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert arabic in found["english_fallbacks"]
    assert found["by_language"]["ar"] == 1


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "about 812 services in VIC, WA | Mon 27 Apr, 3:30 pm | VIC and WA | $1,234.50"),
        ("zh", "约 812 项服务（VIC、WA） | 4月27日（周一）15:30 | VIC和WA | 1,234.50澳元"),
        ("vi", "khoảng 812 dịch vụ ở VIC, WA | 15:30 thứ Hai 27/4 | VIC và WA | 1.234,50 đô la Úc"),
        # An operator's own template in a language we ship none in: CLDR's forms for it
        # (the scale line is English there; outage.affected_services and outage.states let
        # the template word it itself).
        ("ko", "about 812 services in VIC, WA | 2026. 4. 27. 오후 3:30 | VIC 및 WA | AU$1,234.50"),
    ],
)
def test_numbers_dates_lists_and_money_in_the_templates_language(
    language: str, expected: str
) -> None:
    context = {
        "time_zone": "Australia/Sydney",
        "at": dt.datetime(2026, 4, 27, 15, 30, tzinfo=SYDNEY),
        "states": ["VIC", "WA"],
        "scale": scale_phrase(812, ["VIC", "WA"], language),
        "amount": 1234.5,
    }
    source = "{{ scale }} | {{ at|datetime }} | {{ states|join_and }} | {{ amount|money }}"
    text = render_part(
        "text", source, channel="sms", language=language, context=context, origin="test"
    )
    assert text == expected
