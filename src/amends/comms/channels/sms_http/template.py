"""The JSON body of one SMS, from an operator-written template such as
``{"to": "{to}", "text": "{text}"}``.

The template is parsed as JSON first and placeholders are replaced inside its strings only,
so a message text holding quotes, braces or newlines is escaped by the JSON encoder and can
never change the body's shape.
"""

from __future__ import annotations

import json
import re
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


def _value(match: re.Match[str], message: OutboundMessage) -> str:
    name = match[1]
    return str(getattr(message, name)) if name in PLACEHOLDERS else match[0]


def fill(template: Json, message: OutboundMessage) -> Json:
    if isinstance(template, dict):
        return {key: fill(value, message) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, message) for value in template]
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda match: _value(match, message), template)
    return template
