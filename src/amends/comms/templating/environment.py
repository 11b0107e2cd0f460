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
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.lists import format_list
from babel.numbers import format_decimal
from jinja2 import FileSystemLoader, StrictUndefined, Template, pass_context
from jinja2.exceptions import TemplateRuntimeError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from amends.core.money import DEFAULT_CURRENCY, format_money

TEMPLATES_DIR = Path(__file__).with_name("templates")

# Where a from_string template's own lines show up in a traceback Jinja has rewritten.
SOURCE_FILENAME = "<template>"

# Babel's locale for each language we ship templates in; any other language an operator
# writes a template in gets its own CLDR locale, else Australian English.
_LOCALES = {"en": "en_AU", "zh": "zh_Hans", "vi": "vi"}
# CLDR patterns for the three styles (a second pattern: when the minute is zero), chosen to
# read well in a message: "Mon 27 Apr, 3:30 pm", "4月27日（周一）15:30", "15:30 thứ Hai 27/4".
_PATTERNS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "short": ("EEE d MMM, h:mm a", "EEE d MMM, h:mm a"),
        "long": ("EEEE d MMMM 'at' h:mm a", "EEEE d MMMM 'at' h:mm a"),
        "compact": ("h:mma d/M", "h:mma d/M"),  # "3:30pm 27/4": every SMS character costs
    },
    "zh": {
        "short": ("M月d日（EEE）HH:mm", "M月d日（EEE）HH:mm"),
        # how a Chinese voice reads a time aloud: "4月27日星期一15点30分"
        "long": ("M月d日EEEEH点m分", "M月d日EEEEH点"),
        "compact": ("M月d日H:mm", "M月d日H:mm"),
    },
    "vi": {
        "short": ("HH:mm EEEE d/M", "HH:mm EEEE d/M"),
        "long": ("H 'giờ' m, EEEE 'ngày' d 'tháng' M", "H 'giờ', EEEE 'ngày' d 'tháng' M"),
        "compact": ("H:mm d/M", "H:mm d/M"),
    },
}
# Other locales (an operator's own template in, say, Arabic): CLDR's date and time forms.
_CLDR_STYLES = {
    "short": ("medium", "short"),
    "long": ("full", "short"),
    "compact": ("short", "short"),
}
# Amounts of Australian dollars where CLDR's "AU$1,234.50" would read oddly to a customer.
_MONEY_WORDS = {("zh", "AUD"): "{}澳元", ("vi", "AUD"): "{} đô la Úc"}


@lru_cache(maxsize=64)
def babel_locale(language: str) -> Locale:
    """The CLDR locale for a language tag's primary subtag; Australian English if unknown."""
    primary = language.replace("_", "-").split("-")[0].lower()
    try:
        return Locale.parse(_LOCALES.get(primary, primary))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(_LOCALES["en"])


def formatting_language(context: Context) -> str:
    """The language whose date, list and money forms a filter uses: the template's own
    (``render`` puts it in the context)."""
    return str(context.get("language") or "en")


def format_moment(moment: dt.datetime, language: str, style: str = "short") -> str:
    """A moment (already in the recipient's zone) in the language's words, through Babel."""
    # By wall-clock time: aware datetimes in different zones compare (and hash) equal.
    return _format_wall(moment.replace(tzinfo=None), language, style)


@lru_cache(maxsize=4096)
def _format_wall(moment: dt.datetime, language: str, style: str) -> str:
    """Cached: a mass send prints the same few moments for thousands of recipients."""
    locale = babel_locale(language)
    patterns = _PATTERNS.get(locale.language)
    if patterns is None:
        date_style, time_style = _CLDR_STYLES[style]
        date = format_date(moment, date_style, locale=locale)
        return f"{date} {format_time(moment, time_style, locale=locale)}"
    with_minutes, on_the_hour = patterns[style]
    pattern = with_minutes if moment.minute else on_the_hour
    text = format_datetime(moment, pattern, locale=locale)
    if locale.language == "vi":  # weekday names are lower case inside a sentence
        text = text.replace("Thứ", "thứ")
    return text


def format_and(words: list[str], language: str) -> str:
    """A list as words in the language: "a, b and c", "a、b和c", "a, b và c"."""
    return _format_and(tuple(words), language)


@lru_cache(maxsize=4096)
def _format_and(words: tuple[str, ...], language: str) -> str:
    if len(words) < 2:
        return "".join(words)
    return format_list(list(words), locale=babel_locale(language))


def format_count(number: int, language: str) -> str:
    """A whole number with the language's grouping: 52,000 (en, zh), 52.000 (vi)."""
    return format_decimal(number, locale=babel_locale(language))


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
    return format_moment(value.astimezone(zone), formatting_language(context), style)


@pass_context
def join_and(context: Context, items: object) -> str:
    """["a", "b", "c"] → "a, b and c" (en), "a、b和c" (zh), "a, b và c" (vi)."""
    if isinstance(items, str) or not isinstance(items, list | tuple):
        raise TemplateRuntimeError(f"join_and needs a list, got {type(items).__name__}")
    return format_and([str(item) for item in items], formatting_language(context))


@pass_context
def money(context: Context, amount: object) -> str:
    """An amount (Decimal, int or float, never a formatted string) in the context's
    ``currency`` (ISO 4217; Australian dollars when none): "$1,234.50" (en), "1,234.50澳元"
    (zh), "1.234,50 đô la Úc" (vi); pounds "GBP 1,234.50" (en), "£1,234.50" (zh)."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | float):
        raise TemplateRuntimeError(f"money needs a number of dollars, got {amount!r}")
    units = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    locale = babel_locale(formatting_language(context))
    currency = str(context.get("currency") or DEFAULT_CURRENCY)
    words = _MONEY_WORDS.get((locale.language, currency))
    if words is None:
        return format_money(int(units * 100), currency, str(locale))
    return words.format(format_decimal(units, format="#,##0.00", locale=locale))


# How each language says the scale line: with the states, without, and how states are listed
# (English messages have always said "in VIC, WA").
_SCALE: dict[str, tuple[str, str, str]] = {
    "en": ("about {count} services in {states}", "about {count} services", ", "),
    "zh": ("约 {count} 项服务（{states}）", "约 {count} 项服务", "、"),
    "vi": ("khoảng {count} dịch vụ ở {states}", "khoảng {count} dịch vụ", ", "),
}


def scale_phrase(count: int, states: list[str], language: str) -> str:
    """``outage.scale`` in a language we ship templates in (English for any other):
    "about 812 services in VIC, WA", "约 812 项服务（VIC、WA）"."""
    primary = babel_locale(language).language
    if primary not in _SCALE:
        primary = "en"
    with_states, without, separator = _SCALE[primary]
    number = format_count(count, primary)
    if not states:
        return without.format(count=number)
    return with_states.format(count=number, states=separator.join(states))


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
