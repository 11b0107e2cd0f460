"""Personal links to a customer's own credit explanation: ``/c/<token>``, no login.

A credit SMS has room for the amount and a link, not the formula. The link's token names one
confirmed payout of an entitlement without showing its id, and cannot be guessed or altered:
``mac`` is an HMAC (keyed by SECRET_KEY) of the payout id, and the id travels XORed with a
mask derived from that MAC, so different payouts' tokens share nothing a reader could count
or change. Nothing is stored; a token is checked by working its MAC out again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings

_SALT = b"amends.remedy.credit_link"
_MAC_BYTES = 10  # 80 bits: guessing one token takes ~10^24 tries
_ID_BYTES = 6  # payout ids below 2^48
TOKEN_LENGTH = 26  # base32 of 16 bytes, lower case, no padding


def _digest(purpose: bytes, data: bytes) -> bytes:
    key = hashlib.sha256(_SALT + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, purpose + data, hashlib.sha256).digest()


def _mask(mac: bytes) -> int:
    return int.from_bytes(_digest(b"mask:", mac)[:_ID_BYTES], "big")


def credit_token(payout_id: int) -> str:
    """The token of one payout's page."""
    mac = _digest(b"id:", str(payout_id).encode())[:_MAC_BYTES]
    hidden = (payout_id ^ _mask(mac)).to_bytes(_ID_BYTES, "big")
    return base64.b32encode(mac + hidden).decode().rstrip("=").lower()


def payout_for(token: str) -> int | None:
    """The payout id a token names, or None for anything that is not a token we made."""
    if len(token) != TOKEN_LENGTH:
        return None
    try:
        raw = base64.b32decode(token.upper() + "======")
    except ValueError:
        return None
    mac, hidden = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    payout_id = int.from_bytes(hidden, "big") ^ _mask(mac)
    expected = _digest(b"id:", str(payout_id).encode())[:_MAC_BYTES]
    return payout_id if hmac.compare_digest(mac, expected) else None


def credit_url(payout_id: int) -> str:
    """The full link a message carries."""
    return f"{settings.SITE_URL}/c/{credit_token(payout_id)}"
