from __future__ import annotations

from decimal import Decimal

import pytest

from amends.core.money import Rounding, format_cents, parse_amount, round_cents


@pytest.mark.parametrize(
    ("amount", "rule", "expected"),
    [
        (Decimal("171.5"), Rounding.HALF_UP, 172),
        (Decimal("172.5"), Rounding.HALF_EVEN, 172),
        (Decimal("171.5"), Rounding.HALF_EVEN, 172),
        (Decimal("171.01"), Rounding.UP, 172),
        (Decimal("171.99"), Rounding.DOWN, 171),
        (Decimal("-0.5"), Rounding.HALF_UP, -1),
        (7, Rounding.HALF_UP, 7),
    ],
)
def test_round_cents(amount: Decimal, rule: Rounding, expected: int) -> None:
    assert round_cents(amount, rule) == expected


def test_pro_rata_example_from_the_product_brief() -> None:
    # 14 h 05 min × $89.00/month ÷ 730 h = $1.72 (171.68… cents, rounded half up once).
    exact = Decimal(8900) * (Decimal(14) + Decimal(5) / 60) / 730
    assert round_cents(exact) == 172
    assert format_cents(round_cents(exact)) == "$1.72"


@pytest.mark.parametrize(
    ("text", "cents"), [("89.00", 8900), ("89", 8900), ("1,234.5", 123450), ("$0.05", 5)]
)
def test_parse_amount(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["1.234", "abc", "", "NaN", "inf"])
def test_parse_amount_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        parse_amount(text)


def test_format_cents() -> None:
    assert format_cents(123456) == "$1,234.56"
    assert format_cents(-50) == "-$0.50"
