"""Money is an integer number of cents. Amounts are rounded once, by one helper, by a stated rule.

Intermediate arithmetic (pro-rata shares, interest) is done in ``Decimal`` cents and turned into
whole cents by :func:`round_cents` exactly once per amount that a customer will see.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from decimal import InvalidOperation as _InvalidOperation
from enum import StrEnum

Cents = int


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
