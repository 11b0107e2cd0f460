"""The sandbox every message template runs in: its filters and its compile cache.

Two environments share one configuration: the HTML one escapes every printed value, the text
one (email text, SMS, push, voice, social, webhook) prints values as they are, because
escaping would put ``&amp;`` into an SMS. Both are *immutable* sandboxes: a template can
neither reach Python internals (``''.__class__``) nor change the lists and dicts of a context
that the dispatcher may share between thousands of recipients.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import FileSystemLoader, StrictUndefined, Template, pass_context
from jinja2.exceptions import TemplateRuntimeError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATES_DIR = Path(__file__).with_name("templates")

# Where a from_string template's own lines show up in a traceback Jinja has rewritten.
SOURCE_FILENAME = "<template>"

_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_ZH_DAYS = ("一", "二", "三", "四", "五", "六", "日")
_VI_DAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def _when_en(moment: dt.datetime, style: str) -> str:
    clock = f"{moment.hour % 12 or 12}:{moment.minute:02d}"
    noon = "am" if moment.hour < 12 else "pm"
    day, month = _EN_DAYS[moment.weekday()], _EN_MONTHS[moment.month - 1]
    if style == "long":
        return f"{day} {moment.day} {month} at {clock} {noon}"
    if style == "compact":
        return f"{clock}{noon} {moment.day}/{moment.month}"
    return f"{day[:3]} {moment.day} {month[:3]}, {clock} {noon}"


def _when_zh(moment: dt.datetime, style: str) -> str:
    day = _ZH_DAYS[moment.weekday()]
    if style == "long":  # "4月27日星期一15点30分": how a Chinese voice reads a time aloud
        minutes = f"{moment.minute}分" if moment.minute else ""
        return f"{moment.month}月{moment.day}日星期{day}{moment.hour}点{minutes}"
    if style == "compact":
        return f"{moment.month}月{moment.day}日{moment.hour}:{moment.minute:02d}"
    return f"{moment.month}月{moment.day}日（周{day}）{moment.hour:02d}:{moment.minute:02d}"


def _when_vi(moment: dt.datetime, style: str) -> str:
    day = _VI_DAYS[moment.weekday()]
    if style == "long":  # "15 giờ 30, thứ Hai ngày 27 tháng 4"
        minutes = f" {moment.minute}" if moment.minute else ""
        return f"{moment.hour} giờ{minutes}, {day} ngày {moment.day} tháng {moment.month}"
    if style == "compact":
        return f"{moment.hour}:{moment.minute:02d} {moment.day}/{moment.month}"
    return f"{moment.hour:02d}:{moment.minute:02d} {day} {moment.day}/{moment.month}"


_WHEN: dict[str, Callable[[dt.datetime, str], str]] = {
    "en": _when_en,
    "zh": _when_zh,
    "vi": _when_vi,
}
# Last word before the final item of a list, and the separator before the others.
_AND: dict[str, tuple[str, str]] = {"en": (", ", " and "), "zh": ("、", "和"), "vi": (", ", " và ")}


def formatting_language(context: Context) -> str:
    """The language whose date, list and money forms a filter uses: the template's own
    (``render`` puts it in the context), by primary subtag; English for any other."""
    tag = str(context.get("language") or "en")
    primary = tag.split("-")[0].lower()
    return primary if primary in _WHEN else "en"


@pass_context
def datetime_filter(context: Context, value: object, style: str = "short") -> str:
    """A moment in the recipient's time zone (``time_zone`` in the context), in the
    template's language: "Mon 27 Apr, 3:30 pm" (short), "Monday 27 April at 3:30 pm" (long,
    for voice) or "3:30pm 27/4" (compact, for SMS, where every character costs)."""
    if value is None:
        raise TemplateRuntimeError(
            "a date here is unknown (None); put it inside {% if … %} and say what we know"
        )
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise TemplateRuntimeError(f"datetime needs a date with a time zone, got {value!r}")
    if style not in ("short", "long", "compact"):
        raise TemplateRuntimeError(f"datetime style is short, long or compact, not {style!r}")
    zone_name = context.get("time_zone")
    if not zone_name:
        raise TemplateRuntimeError("the context has no time_zone for the datetime filter")
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise TemplateRuntimeError(f"unknown time zone {zone_name!r}") from error
    return _WHEN[formatting_language(context)](value.astimezone(zone), style)


@pass_context
def join_and(context: Context, items: object) -> str:
    """["a", "b", "c"] → "a, b and c" (en), "a、b和c" (zh), "a, b và c" (vi)."""
    if isinstance(items, str) or not isinstance(items, list | tuple):
        raise TemplateRuntimeError(f"join_and needs a list, got {type(items).__name__}")
    words = [str(item) for item in items]
    separator, last = _AND[formatting_language(context)]
    if len(words) < 2:
        return "".join(words)
    return separator.join(words[:-1]) + last + words[-1]


@pass_context
def money(context: Context, amount: object) -> str:
    """An amount of Australian dollars (Decimal, int or float, never a formatted string):
    "$1,234.50" (en), "1,234.50澳元" (zh), "1.234,50 đô la Úc" (vi)."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | float):
        raise TemplateRuntimeError(f"money needs a number of dollars, got {amount!r}")
    cents = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign, digits = ("-" if cents < 0 else ""), f"{abs(cents):,.2f}"
    language = formatting_language(context)
    if language == "zh":
        return f"{sign}{digits}澳元"
    if language == "vi":
        return f"{sign}{digits.translate(str.maketrans(',.', '.,'))} đô la Úc"
    return f"{sign}${digits}"


def _refuse_none(value: object) -> object:
    """Print nothing called None: a message that says "back by None" is worse than none."""
    if value is None:
        raise TemplateRuntimeError("a value printed here is empty (None); put it inside {% if … %}")
    return value


def _environment(*, html: bool) -> ImmutableSandboxedEnvironment:
    environment = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=html,
        finalize=_refuse_none,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # shipped partials change with a release, not while running
    )
    environment.filters.update(datetime=datetime_filter, join_and=join_and, money=money)
    return environment


TEXT_ENVIRONMENT = _environment(html=False)
HTML_ENVIRONMENT = _environment(html=True)


@lru_cache(maxsize=4096)
def compile_source(source: str, *, html: bool) -> Template:
    """Parse once per distinct source: the same SMS template rendered for 100,000 customers
    is compiled once. Raises jinja2.TemplateSyntaxError (with ``lineno``)."""
    return (HTML_ENVIRONMENT if html else TEXT_ENVIRONMENT).from_string(source)


def source_line(traceback: TracebackType | None) -> int | None:
    """The line of the template's own source where rendering failed: the last traceback
    frame Jinja rewrote to point at it (an error inside a shipped partial is reported at
    the ``include`` or ``extends`` line that brought it in)."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == SOURCE_FILENAME:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


_UNDEFINED = re.compile(r"^'(?P<name>[^']+)' is undefined$")
_NO_ATTRIBUTE = re.compile(r"^'[^']+' has no attribute '(?P<name>[^']+)'$")


def plain_message(message: str) -> str:
    """Jinja's wording, said the way an operator editing a template understands it."""
    if match := _UNDEFINED.match(message):
        return f"unknown variable '{match['name']}'"
    if match := _NO_ATTRIBUTE.match(message):
        return f"unknown variable: nothing called '{match['name']}' here"
    return message
