"""What a template can print: the documented variables and a realistic sample of them.

The context a template is rendered with is a plain dict shaped like ``sample_context()``:
``customer``, ``outage``, ``credit`` and ``operator`` are dicts (a template writes
``outage.etr``), the rest are strings. Everything outage-related is *this recipient's* view:
their areas, their services, their restoration time. Free text (title, summary, cause,
message, scale) arrives already in the recipient's language where a translation exists.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

from amends.core import urgent_help

# Languages with shipped default templates; the first is the fallback for every other.
LANGUAGES = ("en", "zh", "vi")

# Kinds sent while the outage is still on for the recipient (their restoration time is None).
OPEN_OUTAGE_KINDS = ("acknowledge", "update", "etr_changed")
CREDIT_KIND = "credit_applied"  # its messages say a bill credit or a refund (credit.method)

VARIABLES: dict[str, str] = {
    "customer.first_name": "How we greet them: their preferred name, else a neutral word "
    "that reads well after 'Hi' (see greeting_name).",
    "customer.name": "Their full name or business name, as on the account.",
    "customer.segment": "consumer, small_business, enterprise or government.",
    "outage.reference": "The outage's reference, e.g. OUT-2026-0042.",
    "outage.title": "The outage's public title.",
    "outage.summary": "The public summary of what is happening (present tense: for messages "
    "sent while it is on).",
    "outage.what_happened": "What happened, in the past tense, as the commander wrote it when "
    "resolving; empty until then (e.g. while only partly restored): say something neutral.",
    "outage.cause": "The likely cause as a phrase that reads after 'likely from', e.g. 'a "
    "fault in our core network'; empty while we are still finding it.",
    "outage.areas": "List of this customer's affected area names, e.g. ['Parramatta', "
    "'Wagga Wagga']; print with |join_and.",
    "outage.services": "List of this customer's affected service types, e.g. ['Home "
    "Internet', 'Mobile']; print with |join_and; {% if outage.services|length > 1 %} for "
    "plural wording ('are back', 'rely on them').",
    "outage.started_at": "When it started for this customer (print with |datetime).",
    "outage.etr": "Estimated restoration for this customer; None while unknown.",
    "outage.next_update_by": "When we promised the next update; None when none is promised.",
    "outage.restored_at": "When service came back for this customer; None until it has.",
    "outage.scale": "How big it is, in the template's language: 'about 52,000 services in "
    "NSW, VIC', '约 52,000 项服务（NSW、VIC）', 'khoảng 52.000 dịch vụ ở NSW, VIC'.",
    "outage.affected_services": "How many services it affects (a number), to word the scale "
    "yourself.",
    "outage.states": "The states it affects, e.g. ['NSW', 'VIC']; print with |join_and.",
    "outage.status": "Where we are, in words: investigating, fixing, monitoring, resolved.",
    "outage.classification": "The regulator's class, in words, e.g. 'major outage'.",
    "status_page_url": "The public status page.",
    "outage_url": "This outage's page on the status page.",
    "urgent_help": "Where to get urgent help (000 and what to do with no coverage at all), as "
    "sentences, for the operator's country (AMENDS_COUNTRY) in the recipient's language.",
    "urgent_help_short": "The same in one line, for SMS and push.",
    "help_line": "Our phone number for help, e.g. 13 24 68.",
    "message": "The notice's own words from the person who wrote it; may be empty.",
    "credit.amount": "The credit in units of its currency (a number); print with |money → $18.40.",
    "credit.explanation": "Why this amount, in one sentence.",
    "credit.method": "How it reaches them: 'bill_credit' (on their next bill) or 'refund' "
    "(paid to the payment details we hold, for a former customer); test it with "
    "{% if credit.method == 'refund' %}.",
    "credit.url": "This customer's own page explaining the credit (no login): the amount, "
    "how it was worked out, the outage, how it reaches them. What an SMS has room for.",
    "credit.program_reference": "The remediation program it comes from, e.g. REM-2026-0007, "
    "for them to quote when they call; empty on a notice no program made.",
    "unsubscribe_url": "This customer's one-click unsubscribe from the messages they can do "
    "without (apology, survey, custom); empty on any other message, which it would not stop.",
    "preferences_url": "This customer's page to choose channels, language and quiet hours.",
    "survey_url": "This customer's survey page on a survey notice (empty otherwise); "
    "{{ survey_url }}/3 records a score of 3 in one click (scores 1 to 5).",
    "operator.name": "Our name as customers know it.",
    "language": "The template's language (en, zh, vi); set by render, used by the filters.",
    "time_zone": "The recipient's IANA time zone, used by |datetime.",
    "currency": "The ISO 4217 code of the amounts (the program's policy's, e.g. AUD, GBP), "
    "used by |money.",
}

FILTERS: dict[str, str] = {
    "datetime": "A date and time in the recipient's time zone and the template's language "
    "(CLDR, through Babel): 'Mon 27 Apr, 3:30 pm'; "
    "|datetime('long') → 'Monday 27 April at 3:30 pm' (voice); |datetime('compact') → "
    "'3:30pm 27/4' (SMS).",
    "join_and": "A list as words: ['a', 'b', 'c'] → 'a, b and c'.",
    "money": "An amount as money in the currency and the template's language (CLDR, through "
    "Babel): 18.4 → '$18.40'; in pounds 'GBP 18.40'.",
}

# A neutral word for the greeting "Hi …," when we have no preferred name.
_NEUTRAL_NAMES = {"en": "there", "zh": "尊敬的客户", "vi": "quý khách"}


def greeting_name(preferred_name: str, language: str) -> str:
    """``customer.first_name``: the name they asked us to use, never a guess from the
    account name (which may be a business, or written family-name first)."""
    if preferred_name.strip():
        return preferred_name.strip()
    return _NEUTRAL_NAMES.get(language.split("-")[0].lower(), _NEUTRAL_NAMES["en"])


def _moment(hour: int, minute: int) -> dt.datetime:
    """A time on Monday 27 April 2026 in Sydney (AEST, UTC+10), held in UTC like the ORM."""
    sydney = dt.timezone(dt.timedelta(hours=10))
    return dt.datetime(2026, 4, 27, hour, minute, tzinfo=sydney).astimezone(dt.UTC)


_SHARED: dict[str, Any] = {
    "time_zone": "Australia/Sydney",
    "currency": "AUD",
    "help_line": "13 24 68",
    "status_page_url": "https://status.wattle.example",
    "outage_url": "https://status.wattle.example/OUT-2026-0042",
    "unsubscribe_url": "https://status.wattle.example/u/7Hk2p9",
    "preferences_url": "https://status.wattle.example/u/7Hk2p9/preferences",
    "survey_url": "https://status.wattle.example/survey/7Hk2p9/42",
}

_SAMPLES: dict[str, dict[str, Any]] = {
    "en": {
        "customer": {"first_name": "Priya", "name": "Priya Sharma", "segment": "consumer"},
        "outage": {
            "title": "Mobile and internet outage in NSW and VIC",
            "summary": "A fault in our core network has cut mobile and internet services "
            "in NSW and VIC.",
            "cause": "a fault in our core network",
            "areas": ["Parramatta", "Wagga Wagga"],
            "services": ["Home Internet", "Mobile"],
            "scale": "about 52,000 services in NSW, VIC",
            "affected_services": 52000,
            "states": ["NSW", "VIC"],
            "status": "fixing",
            "classification": "major outage",
        },
        "message": "Our engineers have found the faulty equipment and are replacing it.",
        "what_happened": "A power supply failed in our core network. We replaced it and "
        "services came back by 1:10 pm.",
        "message_after": "We've replaced the faulty equipment and are adding a backup route, "
        "so one fault can't cut you off again.",
        "credit": {
            "explanation": "13 hours without Home Internet and Mobile, at your monthly "
            "charges, plus a $5 goodwill credit.",
        },
        "operator": {"name": "Wattle"},
    },
    "zh": {
        "customer": {"first_name": "美玲", "name": "陈美玲", "segment": "consumer"},
        "outage": {
            "title": "新南威尔士州和维多利亚州手机及网络中断",
            "summary": "我们的核心网络故障导致新南威尔士州和维多利亚州的手机和网络服务中断。",
            "cause": "核心网络故障",
            "areas": ["Hurstville", "Box Hill"],
            "services": ["家庭宽带", "手机"],
            "scale": "约 52,000 项服务（NSW、VIC）",
            "affected_services": 52000,
            "states": ["NSW", "VIC"],
            "status": "正在修复",
            "classification": "重大中断",
        },
        "message": "我们的工程师已找到故障设备，正在更换。",
        "what_happened": "我们核心网络的一个电源发生故障。我们已更换电源，服务于下午1:10恢复。",
        "message_after": "我们已更换故障设备，并正在增加备用线路，避免单一故障再次导致中断。",
        "credit": {"explanation": "家庭宽带和手机中断13小时，按您的月费计算，另加5澳元补偿。"},
        "operator": {"name": "Wattle"},
    },
    "vi": {
        "customer": {"first_name": "Minh", "name": "Nguyễn Văn Minh", "segment": "small_business"},
        "outage": {
            "title": "Gián đoạn di động và internet ở NSW và VIC",
            "summary": "Sự cố mạng lõi làm gián đoạn dịch vụ di động và internet ở NSW và VIC.",
            "cause": "lỗi ở mạng lõi",
            "areas": ["Cabramatta", "Bankstown"],
            "services": ["Internet", "Di động"],
            "scale": "khoảng 52.000 dịch vụ ở NSW, VIC",
            "affected_services": 52000,
            "states": ["NSW", "VIC"],
            "status": "đang sửa chữa",
            "classification": "sự cố lớn",
        },
        "message": "Kỹ sư của chúng tôi đã tìm ra thiết bị hỏng và đang thay thế.",
        "what_happened": "Một bộ nguồn trong mạng lõi bị hỏng. Chúng tôi đã thay thế và dịch "
        "vụ hoạt động lại lúc 1:10 chiều.",
        "message_after": "Chúng tôi đã thay thiết bị hỏng và đang thêm tuyến dự phòng để "
        "một sự cố không làm mất dịch vụ nữa.",
        "credit": {
            "explanation": "13 giờ mất Internet và Di động, tính theo cước tháng, cộng thêm "
            "5 đô la Úc bồi thường.",
        },
        "operator": {"name": "Wattle"},
    },
}


def sample_context(language: str = "en", *, kind: str | None = None) -> dict[str, Any]:
    """A realistic recipient of the Monday-morning core outage, for previews and for the
    save-time check. With a ``kind``, only what that notice would really have: no
    restoration time in the messages sent while the outage is still on."""
    sample = _SAMPLES.get(language.split("-")[0].lower(), _SAMPLES["en"])
    context: dict[str, Any] = {**copy.deepcopy(_SHARED), **copy.deepcopy(sample)}
    context["language"] = language
    context["urgent_help"] = urgent_help.urgent_help("AU", language)
    context["urgent_help_short"] = urgent_help.urgent_help_short("AU", language)
    # What the notice's author would write: progress while it is on, lessons once it is over.
    after = context.pop("message_after")
    if kind is not None and kind not in OPEN_OUTAGE_KINDS:
        context["message"] = after
    context["outage"].update(
        reference="OUT-2026-0042",
        started_at=_moment(4, 5),
        etr=_moment(15, 30),
        next_update_by=_moment(10, 0),
        restored_at=None if kind in OPEN_OUTAGE_KINDS else _moment(13, 10),
        what_happened="" if kind in OPEN_OUTAGE_KINDS else context["what_happened"],
    )
    del context["what_happened"]
    context["credit"].update(
        amount=Decimal("18.40"),
        method="bill_credit",
        program_reference="REM-2026-0007",
        url="https://wattle.example/c/h6htof7hcxoszjfkszepdebsh4",
    )
    return context
