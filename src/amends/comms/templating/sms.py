"""How many SMS segments a text costs, and which characters made it expensive.

One character outside the GSM 03.38 alphabet (a curly quote, an emoji, any Chinese or
Vietnamese letter) sends the whole message as UCS-2: 70 characters instead of 160, 67
instead of 153 per segment once it is split. Characters of the GSM extension table (€, [, ],
{, }, ~, ^, \\, |) are an escape plus a character: two of the 160. Segments are counted the
way phones split them: an escape pair or a UTF-16 surrogate pair is never cut in two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

# (single message, per segment of a concatenated message): the user-data header of a
# concatenated message takes 7 septets (GSM-7) or 3 UTF-16 units (UCS-2) of each segment.
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # septets (GSM-7, extension characters count 2) or UTF-16 units
    segments: int
    per_segment: int  # the limit that applied: 160/153 or 70/67
    ucs2_characters: list[str] = field(default_factory=list)  # why it is UCS-2, in order


def _costs(text: str, encoding: str) -> list[int]:
    if encoding == "GSM-7":
        return [2 if char in GSM_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def sms_info(text: str) -> SmsInfo:
    ucs2 = list(dict.fromkeys(c for c in text if c not in GSM_BASIC and c not in GSM_EXTENSION))
    encoding = "UCS-2" if ucs2 else "GSM-7"
    single, concatenated = LIMITS[encoding]
    costs = _costs(text, encoding)
    total = sum(costs)
    if total <= single:
        return SmsInfo(encoding, total, 1, single, ucs2)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > concatenated:
            segments, used = segments + 1, 0
        used += cost
    return SmsInfo(encoding, total, segments, concatenated, ucs2)
