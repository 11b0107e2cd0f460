"""What we answer to STATUS, STOP, START and STILL OUT, in each language we serve: the
wording kept in one table so a translator sees every reply at once."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from babel.dates import format_datetime
from django.conf import settings

from amends.comms.templating.environment import babel_locale
from amends.outages.queries import primary_language

# Each language's replies; "when" is the CLDR pattern of a date in them.
REPLIES: dict[str, dict[str, str]] = {
    "en": {
        "no_outage": "We don't know of an outage affecting your services right now. "
        "Updates: {page}",
        "status": "{title}: your service is still affected. Expected back: {when}. Updates: {url}",
        "etr_unknown": "not yet known",
        "when": "EEE dd MMM HH:mm",
        "start": "You will get outage texts from us again.",
        "stop": "You won't get outage texts from us any more. Reply START to get them again.",
        "stop_subscriber": "You won't get status texts from us any more.",
        "still_out": "Sorry your service is still out. We've told the team fixing it and will "
        "keep you updated.",
        "which_service": "Which service is still out? Reply with its name and we'll pass it "
        "to the team, or call {help_line}.",
    },
    "zh": {
        "no_outage": "目前我们没有发现影响您服务的中断。最新情况：{page}",
        "status": "{title}：您的服务仍受影响。预计恢复时间：{when}。最新情况：{url}",
        "etr_unknown": "暂时还不确定",
        "when": "M月d日（EEE）HH:mm",
        "start": "您将重新收到我们的服务中断短信。",
        "stop": "您将不再收到我们的服务中断短信。回复START可重新接收。",
        "stop_subscriber": "您将不再收到我们的服务状态短信。",
        "still_out": "很抱歉，您的服务仍未恢复。我们已通知抢修团队，并会随时向您通报。",
        "which_service": "请问哪项服务仍未恢复？请回复服务名称，我们会转告团队；"
        "或致电{help_line}。",
    },
    "vi": {
        "no_outage": "Hiện chúng tôi không thấy sự cố nào ảnh hưởng đến dịch vụ của quý khách. "
        "Cập nhật: {page}",
        "status": "{title}: dịch vụ của quý khách vẫn bị ảnh hưởng. Dự kiến khôi phục: "
        "{when}. Cập nhật: {url}",
        "etr_unknown": "chưa xác định",
        "when": "HH:mm 'ngày' d/M",
        "start": "Quý khách sẽ lại nhận tin nhắn về sự cố từ chúng tôi.",
        "stop": "Quý khách sẽ không nhận tin nhắn về sự cố từ chúng tôi nữa. Trả lời START "
        "để nhận lại.",
        "stop_subscriber": "Quý khách sẽ không nhận tin nhắn trạng thái từ chúng tôi nữa.",
        "still_out": "Rất tiếc dịch vụ của quý khách vẫn chưa có lại. Chúng tôi đã báo đội "
        "sửa chữa và sẽ cập nhật cho quý khách.",
        "which_service": "Dịch vụ nào của quý khách vẫn chưa có lại? Xin trả lời bằng tên "
        "dịch vụ, chúng tôi sẽ báo đội sửa chữa, hoặc gọi {help_line}.",
    },
}


def reply_language(tag: str | None) -> str:
    """The customer's language if we serve it (AMENDS_LANGUAGES) and have replies in it."""
    primary = primary_language(tag or "en")
    return primary if primary in REPLIES and primary in settings.AMENDS_LANGUAGES else "en"


def reply(key: str, language: str, **values: str) -> str:
    """One reply in ``language`` (from ``reply_language``), its blanks filled."""
    return REPLIES[language][key].format(**values)


def reply_when(moment: dt.datetime | None, language: str, time_zone: str) -> str:
    """A moment in the customer's zone and language, or "not yet known" in it."""
    if moment is None:
        return reply("etr_unknown", language)
    local = moment.astimezone(zoneinfo.ZoneInfo(time_zone))
    return format_datetime(
        local.replace(tzinfo=None), REPLIES[language]["when"], locale=babel_locale(language)
    )
