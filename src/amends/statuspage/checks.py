"""System checks for the status page's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from amends.network.models import ProductKind, State


@register()
def check_components(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    unknown_kinds = set(settings.AMENDS_STATUSPAGE_COMPONENT_KINDS) - set(ProductKind.values)
    if unknown_kinds:
        problems.append(
            Error(
                f"AMENDS_STATUSPAGE_COMPONENT_KINDS names unknown kinds: {sorted(unknown_kinds)}",
                hint=f"Use product kinds: {', '.join(ProductKind.values)}.",
                id="statuspage.E001",
            )
        )
    unknown_states = set(settings.AMENDS_STATUSPAGE_COMPONENT_STATES) - set(State.values)
    if unknown_states:
        problems.append(
            Error(
                f"AMENDS_STATUSPAGE_COMPONENT_STATES names unknown states: "
                f"{sorted(unknown_states)}",
                hint=f"Use state codes: {', '.join(State.values)}.",
                id="statuspage.E002",
            )
        )
    return problems
