"""System checks for the status page's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

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


@register()
def check_social_accounts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Accounts whose URLs apprise cannot read, and accounts that would only reach the
    outbox because the social channel is not apprise."""
    from amends.comms.channels.registry import parse_pairs
    from amends.env import ConfigurationError
    from amends.statuspage.social import configured_accounts

    problems: list[CheckMessage] = []
    try:
        accounts = configured_accounts()
    except ConfigurationError as error:
        return [Error(str(error), id="statuspage.E003")]
    provider = parse_pairs("AMENDS_CHANNELS", settings.AMENDS_CHANNELS).get("social", "outbox")
    if accounts and provider != "apprise":
        problems.append(
            Warning(
                "AMENDS_SOCIAL_URLS is set but social posts go to the outbox",
                hint="Add social=apprise to AMENDS_CHANNELS to post to the accounts.",
                id="statuspage.W001",
            )
        )
    return problems
