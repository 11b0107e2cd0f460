"""Parsers for import fields. Each takes the stripped text and returns the value to store, or
raises ``ValueError`` with a message a person can act on.

Parsers wrapped in a :class:`Field` also say which texts they would store exactly as written
(their *canonical* form). A CSV line made only of canonical texts needs no per-field parse: one
regular expression checks it whole and PostgreSQL reads it as it is (see ``fastlines``).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from amends.core.money import parse_amount

Parser = Callable[[str], object]


@dataclass(frozen=True)
class Field:
    """A parser and the regex of the texts it stores unchanged.

    ``canonical`` must only match text that ``parse`` accepts and that PostgreSQL, reading it
    from CSV into the staging column, turns into the value ``parse`` returns; it never matches
    a comma, a quote or a line break, so it can sit between the commas of a CSV line. Text a
    capture group in it matches is dropped on the way (the point of ``149.00`` stored as cents).
    Anything it does not match still goes through ``parse``, so it may be as strict as it likes.
    """

    parse: Parser
    canonical: str | Callable[[], str]  # or what gives it when it depends on the settings

    def __call__(self, value: str) -> object:
        return self.parse(value)

    @property
    def pattern(self) -> str:
        return self.canonical() if callable(self.canonical) else self.canonical


_EDGE = r'[^\s",\x00]'  # first and last character of a canonical text: no space (str.strip)
_INNER = r'[^",\r\n\x00]'
_DIGITS = "[0-9]"  # not \d: that also matches other scripts' digits, which PostgreSQL refuses


def _at_most(length: int) -> str:
    """A lookahead: the field, up to the next comma or line end, is at most ``length`` long."""
    return rf"(?![^,\r\n]{{{length + 1}}})"


_EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
_POSTCODE = re.compile(r"\d{4}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(:([0-5]\d))?")
_TOKEN = re.compile(r"[a-z][a-z0-9_]*")
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})
CHANNELS = ("email", "sms", "push", "voice")


def text(max_length: int) -> Field:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return Field(parse, rf"{_EDGE}(?:{_INNER}{{0,{max_length - 2}}}{_EDGE})?")


def external_id(value: str) -> str:
    if len(value) > 64 or not _EXTERNAL_ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an id (letters, digits and . _ : - only, at most 64 characters)"
        )
    return value


EXTERNAL_ID = Field(external_id, "[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def choice(options: type[Enum], *, upper: bool = False) -> Field:
    allowed = {str(member.value) for member in options}
    listing = ", ".join(sorted(allowed))

    def parse(value: str) -> str:
        normalised = value.upper() if upper else value.lower()
        if normalised not in allowed:
            raise ValueError(f"{value!r} is not one of {listing}")
        return normalised

    return Field(parse, "|".join(re.escape(option) for option in sorted(allowed)))


def amount(value: str) -> int:
    cents = parse_amount(value)
    if cents < 0:
        raise ValueError(f"{value!r} is negative")
    return cents


# Dollars with exactly two decimals; the captured point is dropped, leaving the cents.
AMOUNT = Field(amount, rf"{_DIGITS}{{1,15}}(\.){_DIGITS}{{2}}")


def boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true or false")


# PostgreSQL's boolean input reads each of these lower-case words as the parser does.
BOOLEAN = Field(boolean, "|".join(sorted(_TRUE | _FALSE)))

# The whole degrees below each limit coordinates are checked against, without leading zeros.
_WHOLE_DEGREES = {90: "[1-8]?[0-9]", 180: "1[0-7][0-9]|[1-9]?[0-9]"}


def coordinate(limit: int) -> Field:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        if not -limit <= number <= limit:
            raise ValueError(f"{value} is outside -{limit}..{limit}")
        return number

    # Plain decimals inside the limit; both Python and PostgreSQL round them to the same double.
    whole = _WHOLE_DEGREES[limit]
    fraction = rf"(?:\.{_DIGITS}{{1,20}})?"
    return Field(parse, rf"-?(?:(?:{whole}){fraction}|{limit}(?:\.0{{1,20}})?)")


def email(value: str) -> str:
    if len(value) > EMAIL_LENGTH:
        raise ValueError(f"is longer than {EMAIL_LENGTH} characters")
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError(f"{value!r} is not an email address") from None
    return value


EMAIL_LENGTH = 254  # the longest address SMTP carries, and the column's length
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ATOM = "[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+"
# Plain ASCII addresses, a subset of what Django's validator accepts (dot-atom local part;
# host labels of at most 63 characters without a hyphen at either end; a TLD of letters).
EMAIL = Field(
    email,
    rf"{_at_most(EMAIL_LENGTH)}{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}",
)


@dataclass(frozen=True)
class _HomeRegion:
    """The default region's E.164 prefix and its number patterns, from phonenumbers' metadata.

    Most numbers in a customer file are already E.164 numbers of the operator's own country;
    matching them against the same patterns phonenumbers uses is exact and ~20x faster than a
    full parse, which stays the path for everything else (and for the error messages).
    """

    prefix: str
    mobile: re.Pattern[str] | None
    fixed_line: re.Pattern[str] | None


def _pattern(desc: Any) -> re.Pattern[str] | None:
    if desc is None or desc.national_number_pattern is None:
        return None
    return re.compile(desc.national_number_pattern)


@cache
def _home_region(region: str) -> _HomeRegion:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        raise ValueError(f"AMENDS_PHONE_REGION={region!r} is not a region phonenumbers knows")
    code = phonenumbers.country_code_for_region(region)
    return _HomeRegion(f"+{code}", _pattern(metadata.mobile), _pattern(metadata.fixed_line))


def _fast_path(value: str, *, mobile: bool) -> bool:
    home = _home_region(settings.DEFAULT_PHONE_REGION)
    if not value.startswith(home.prefix):
        return False
    national = value[len(home.prefix) :]
    patterns = (home.mobile,) if mobile else (home.mobile, home.fixed_line)
    return any(p is not None and p.fullmatch(national) for p in patterns)


_MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def _phone(value: str, *, mobile: bool) -> str:
    if _fast_path(value, mobile=mobile):
        return value
    try:
        number = phonenumbers.parse(value, settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{value!r} is not a phone number") from None
    kind = phonenumbers.number_type(number)  # UNKNOWN exactly when the number is not valid
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise ValueError(f"{value!r} is not a valid phone number")
    if mobile and kind not in _MOBILE_TYPES:
        raise ValueError(f"{value!r} is not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_phone(value: str) -> str:
    """A mobile number, in any format the default region understands, stored as E.164."""
    return _phone(value, mobile=True)


def any_phone(value: str) -> str:
    return _phone(value, mobile=False)


def _home_numbers(*, mobile: bool) -> str:
    """The numbers ``_fast_path`` takes as they are: the home region's, already E.164."""
    home = _home_region(settings.DEFAULT_PHONE_REGION)
    patterns = (home.mobile,) if mobile else (home.mobile, home.fixed_line)
    national = "|".join(f"(?:{p.pattern})" for p in patterns if p is not None) or "(?!)"
    return rf"{re.escape(home.prefix)}(?:{national})"


MOBILE_PHONE = Field(mobile_phone, lambda: _home_numbers(mobile=True))
ANY_PHONE = Field(any_phone, lambda: _home_numbers(mobile=False))


def postcode(value: str) -> str:
    if not _POSTCODE.fullmatch(value):
        raise ValueError(f"{value!r} is not a 4-digit postcode")
    return value


POSTCODE = Field(postcode, f"{_DIGITS}{{4}}")


def language(value: str) -> str:
    if len(value) > LANGUAGE_LENGTH or not _LANGUAGE.fullmatch(value):
        raise ValueError(f"{value!r} is not a language tag such as en or zh-Hant")
    return value


LANGUAGE_LENGTH = 16
LANGUAGE = Field(language, rf"{_at_most(LANGUAGE_LENGTH)}[a-z]{{2,3}}(?:-[A-Za-z0-9]{{2,8}})*")


def clock_time(value: str) -> str:
    """ "21:00" or "21:00:00", stored as HH:MM:SS (the form Django stores a TimeField in SQLite)."""
    match = _TIME.fullmatch(value)
    if not match:
        raise ValueError(f"{value!r} is not a time (HH:MM)")
    return f"{match.group(1)}:{match.group(2)}:{match.group(4) or '00'}"


# PostgreSQL's time input reads "21:00" as 21:00:00 too (the groups only repeat _TIME's).
CLOCK_TIME = Field(clock_time, "(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?")


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(value: str) -> str:
    if value not in _time_zones():
        raise ValueError(f"{value!r} is not an IANA time zone such as Australia/Sydney")
    return value


def channel_order(value: str) -> str:
    channels = [item.strip().lower() for item in value.split(";") if item.strip()]
    unknown = [item for item in channels if item not in CHANNELS]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a channel ({', '.join(CHANNELS)})")
    if len(set(channels)) != len(channels):
        raise ValueError("names a channel twice")
    return ";".join(channels)


def tokens(value: str) -> str:
    items = [item.strip() for item in value.split(";") if item.strip()]
    for item in items:
        if not _TOKEN.fullmatch(item):
            raise ValueError(f"{item!r} is not a lower-case word")
    joined = ";".join(items)
    if len(joined) > TOKENS_LENGTH:
        raise ValueError(f"is longer than {TOKENS_LENGTH} characters")
    return joined


TOKENS_LENGTH = 200
TOKENS = Field(tokens, rf"{_at_most(TOKENS_LENGTH)}{_TOKEN.pattern}(?:;{_TOKEN.pattern})*")
