"""The JSON body of one SMS, from an operator-written template such as
``{"to": "{to}", "text": "{text}"}``.

The template is parsed as JSON first and placeholders are replaced inside its strings only,
so a message text holding quotes, braces or newlines is escaped by the JSON encoder and can
never change the body's shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TypeAlias

from amends.comms.channels.base import OutboundMessage
from amends.env import ConfigurationError

Json: TypeAlias = dict[str, "Json"] | list["Json"] | str | int | float | bool | None

PLACEHOLDERS = ("to", "text", "subject", "idempotency_key", "delivery_id")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")


def _strings(value: Json) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def parse_template(raw: str, *, setting: str) -> Json:
    """The template as JSON, refusing unknown placeholders (a typo would send empty SMS)."""
    try:
        template: Json = json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{setting} is not JSON: {exc}") from None
    unknown = {
        name
        for text in _strings(template)
        for name in _PLACEHOLDER.findall(text)
        if name not in PLACEHOLDERS
    }
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        raise ConfigurationError(f"{setting} uses unknown {sorted(unknown)}; known: {known}")
    return template


Filler: TypeAlias = Callable[[OutboundMessage], Json]


def compile_filler(template: Json) -> Filler:
    """The template as a function from a message to its body, worked out once: each string
    is split into its text and placeholders up front, so filling a message in a batch of
    hundreds is a few attribute reads, not a regular-expression pass per string."""
    if isinstance(template, dict):
        items = [(key, compile_filler(value)) for key, value in template.items()]
        return lambda message: {key: filler(message) for key, filler in items}
    if isinstance(template, list):
        fillers = [compile_filler(value) for value in template]
        return lambda message: [filler(message) for filler in fillers]
    if isinstance(template, str) and _PLACEHOLDER.search(template):
        return _string_filler(template)
    return lambda message: template


def _string_filler(template: str) -> Filler:
    # split() with a group alternates text and placeholder names: [text, name, text, …].
    pieces = _PLACEHOLDER.split(template)
    names = pieces[1::2]
    if pieces[0] == pieces[-1] == "" and len(names) == 1:  # "{text}": the value itself
        name = names[0]
        return lambda message: str(getattr(message, name))
    texts = pieces[0::2]

    def fill(message: OutboundMessage) -> str:
        parts = [texts[0]]
        for name, text in zip(names, texts[1:], strict=True):
            parts += (str(getattr(message, name)), text)
        return "".join(parts)

    return fill
