"""Field parsers, including the E.164 fast path checked against phonenumbers itself."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amends.network.importer import fields

national_numbers = st.text(alphabet="0123456789", min_size=9, max_size=9)


def _reference(value: str, *, mobile: bool) -> str | None:
    """What a full phonenumbers parse decides: the E.164 form, or None when refused."""
    number = phonenumbers.parse(value, "AU")
    kind = phonenumbers.number_type(number)
    if not phonenumbers.is_valid_number(number):
        return None
    if mobile and kind not in fields._MOBILE_TYPES:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _ours(value: str, *, mobile: bool) -> str | None:
    try:
        return fields.mobile_phone(value) if mobile else fields.any_phone(value)
    except ValueError:
        return None


@settings(max_examples=3000, deadline=None)
@given(national=national_numbers, mobile=st.booleans())
def test_phone_fast_path_agrees_with_phonenumbers(national: str, mobile: bool) -> None:
    value = f"+61{national}"
    assert _ours(value, mobile=mobile) == _reference(value, mobile=mobile)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0412 345 678", "+61412345678"),
        ("+61 412 345 678", "+61412345678"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_mobile_numbers_in_any_format_become_e164(value: str, expected: str) -> None:
    assert fields.mobile_phone(value) == expected


def test_clock_time_and_channels() -> None:
    assert fields.clock_time("7:00".zfill(5)) == "07:00:00"
    with pytest.raises(ValueError, match="not a time"):
        fields.clock_time("25:00")
    assert fields.channel_order("SMS; email") == "sms;email"
    with pytest.raises(ValueError, match="twice"):
        fields.channel_order("sms;sms")
