"""Where to get urgent help, per country and language: what messages and pages say.

Plain data, no Django (settings checks ``AMENDS_COUNTRY`` against it). An emergency call does
not work "from any phone": in Australia a mobile can reach 000 (or 112) through *another*
network's coverage, but with no coverage at all it cannot call anyone, so the text always says
what to do then. ``LONG`` is for email, voice, the status page; ``SHORT`` is the one line an SMS
or push notification has room for (plain GSM-7 in English).
"""

from __future__ import annotations

LONG: dict[str, dict[str, str]] = {
    "AU": {
        "en": "In an emergency call 000 (or 112 from a mobile). An emergency call from a "
        "mobile needs coverage from some network, not necessarily ours: if there is no "
        "coverage at all, use a landline, another phone or another network's SIM, or go to a "
        "neighbour or a police station. TTY users call 106.",
        "zh": "紧急情况请拨打000（手机也可拨112）。手机拨打紧急电话需要有某个网络的信号，"
        "不一定是我们的网络；如果完全没有信号，请使用固定电话、其他电话或其他网络的SIM卡，"
        "或前往邻居家或警察局求助。听障人士请拨106（TTY）。",
        "vi": "Trường hợp khẩn cấp, hãy gọi 000 (hoặc 112 từ điện thoại di động). Cuộc gọi "
        "khẩn cấp từ di động cần có sóng của một mạng nào đó, không nhất thiết là mạng của "
        "chúng tôi: nếu hoàn toàn không có sóng, hãy dùng điện thoại bàn, điện thoại khác hoặc "
        "SIM của mạng khác, hoặc đến nhà hàng xóm hay đồn cảnh sát. Người dùng TTY gọi 106.",
    },
}

SHORT: dict[str, dict[str, str]] = {
    "AU": {
        "en": "000 works with any network's signal.",
        "zh": "紧急电话000需任一网络的信号。",
        "vi": "Khẩn cấp gọi 000.",
    },
}

COUNTRIES = tuple(LONG)
FALLBACK_LANGUAGE = "en"


def _pick(texts: dict[str, dict[str, str]], country: str, language: str) -> str:
    shipped = texts[country]
    return (
        shipped.get(language.replace("_", "-").split("-")[0].lower()) or shipped[FALLBACK_LANGUAGE]
    )


def urgent_help(country: str, language: str, *, english_override: str = "") -> str:
    """The full text in the language (English when we ship none for it); the operator's
    ``AMENDS_URGENT_HELP`` replaces the English one."""
    text = _pick(LONG, country, language)
    if english_override and text == LONG[country][FALLBACK_LANGUAGE]:
        return english_override
    return text


def urgent_help_short(country: str, language: str) -> str:
    """The one line an SMS or a push notification carries."""
    return _pick(SHORT, country, language)


def for_messages(language: str) -> dict[str, str]:
    """``urgent_help`` and ``urgent_help_short`` of a message in the language, for the
    operator's country (AMENDS_COUNTRY, AMENDS_URGENT_HELP)."""
    from django.conf import settings  # this module is read by settings itself

    country = settings.AMENDS_COUNTRY
    return {
        "urgent_help": urgent_help(country, language, english_override=settings.AMENDS_URGENT_HELP),
        "urgent_help_short": urgent_help_short(country, language),
    }
