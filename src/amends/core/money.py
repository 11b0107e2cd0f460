"""Money is an integer number of cents. Amounts are rounded once, by one helper, by a stated rule.

Intermediate arithmetic (pro-rata shares, interest) is done in ``Decimal`` cents and turned into
whole cents by :func:`round_cents` exactly once per amount that a customer will see.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from decimal import InvalidOperation as _InvalidOperation
from enum import StrEnum

from babel import Locale
from babel.numbers import format_currency

Cents = int

# The console's locale: staff read amounts the Australian way ("$1,234.56", "GBP 1,234.56").
CONSOLE_LOCALE = "en_AU"
DEFAULT_CURRENCY = "AUD"


class Rounding(StrEnum):
    """How a fractional number of cents becomes whole cents."""

    HALF_UP = "half_up"  # 0.5 cent goes up: the usual consumer-friendly commercial rule
    HALF_EVEN = "half_even"  # banker's rounding
    UP = "up"  # always in the customer's favour for credits
    DOWN = "down"

    @property
    def decimal_mode(self) -> str:
        return {
            Rounding.HALF_UP: ROUND_HALF_UP,
            Rounding.HALF_EVEN: ROUND_HALF_EVEN,
            Rounding.UP: ROUND_CEILING,
            Rounding.DOWN: ROUND_FLOOR,
        }[self]


def round_cents(amount_in_cents: Decimal | int, rule: Rounding = Rounding.HALF_UP) -> Cents:
    """The one rounding helper: a (fractional) number of cents to whole cents."""
    return int(Decimal(amount_in_cents).quantize(Decimal(1), rounding=rule.decimal_mode))


def parse_amount(text: str) -> Cents:
    """Parse a decimal currency amount ("89.00", "89", "1234.5") into cents, exactly.

    Refuses more than two decimal places rather than rounding silently.
    """
    cleaned = text.strip().replace(",", "").lstrip("$")
    try:
        value = Decimal(cleaned)
    except _InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not an amount")
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{text!r} has more than two decimal places")
    return int(cents)


def format_cents(cents: Cents, symbol: str = "$") -> str:
    """12345 → "$123.45"; -50 → "-$0.50"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def format_money(
    cents: Cents,
    currency: str = DEFAULT_CURRENCY,
    locale: str = CONSOLE_LOCALE,
    *,
    whole: bool = False,
) -> str:
    """Cents of ``currency`` as ``locale`` writes money, through Babel (CLDR): 12345 AUD in
    en_AU → "$123.45", GBP → "GBP 123.45", in en_GB → "£123.45"; -50 AUD → "-$0.50".
    ``whole``: no decimals, for round figures such as a histogram's bounds ("$5", "GBP 5").

    Babel leaves out CLDR's currency spacing, which would run a code into the digits
    ("GBP123.45"): a letter next to a digit gets the no-break space CLDR puts there."""
    amount = Decimal(cents) / 100
    if whole:
        pattern = Locale.parse(locale).currency_formats["standard"].pattern
        text = format_currency(
            amount, currency, _DECIMALS.sub("", pattern), locale=locale, currency_digits=False
        )
    else:
        text = format_currency(amount, currency, locale=locale)
    return _LETTER_DIGIT.sub("\u00a0", text)


def money_prefix(currency: str) -> str:
    """What :func:`format_money` writes before the digits in the console's locale ("$",
    "GBP\u00a0"): for amounts that SQL formats in bulk (a calculation's explanations)."""
    text = format_money(0, currency)
    return text[: text.index("0")]


_DECIMALS = re.compile(r"\.0+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
