"""Audiences that other apps choose, evaluated set-based like every other audience.

Some audiences are facts only another app knows — "the customers of program REM-… whose
credit billing confirmed and who had not been told" is the remediation app's. Such an app
registers a *provider* under a name (in its ``AppConfig.ready()``); a notice with the
``provided`` audience names its provider in ``audience_segment`` (for a segment audience that
field names the segment: here it names who chooses). The provider answers with a condition on
``network_customer c`` and its parameters; ``audience.audience_condition`` puts it into the
statements over the audience — the preview's counts and the one ``INSERT … SELECT`` that
creates the outbox rows — so no list of customers ever passes through Python or a query
parameter each.

A provider must answer without reading the audience itself (at most a lookup of its own link
to the notice) and may answer "nobody yet": an app usually links its rows to a notice only
after ``notice_create`` made it (and counted it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amends.comms.models import Notice
from amends.core.errors import AmendsError

# notice → (SQL condition on network_customer c, its parameters)
Condition = tuple[str, list[Any]]
AudienceProvider = Callable[[Notice], Condition]
# notice → who it reaches in words, for the console ("customers of REM-… told of …")
Describer = Callable[[Notice], str]

NOBODY: Condition = ("1 = 0", [])

_PROVIDERS: dict[str, AudienceProvider] = {}
_DESCRIBERS: dict[str, Describer] = {}


def register(name: str, provider: AudienceProvider, describe: Describer | None = None) -> None:
    """Add (or replace: ``ready()`` may run twice) the provider called ``name``, and what
    says in words whom a notice of it reaches."""
    longest = Notice._meta.get_field("audience_segment").max_length
    if not name or len(name) > (longest or 0):
        raise ValueError(f"an audience provider's name has 1 to {longest} characters: {name!r}")
    _PROVIDERS[name] = provider
    if describe is not None:
        _DESCRIBERS[name] = describe


def describe(notice: Notice) -> str:
    """Whom a notice with a provided audience reaches, in the provider's words."""
    describer = _DESCRIBERS.get(notice.audience_segment)
    if describer is None:
        return f"Chosen by {notice.audience_segment or 'no app'}"
    return describer(notice)


def provided_condition(notice: Notice) -> Condition:
    """The condition the notice's provider gives; a clear error when there is none."""
    provider = _PROVIDERS.get(notice.audience_segment)
    if provider is None:
        raise AmendsError(
            "another app chooses this audience when it sends its own notices (e.g. "
            "remediation's credit notices); choose another audience"
            if not notice.audience_segment
            else f"no app provides an audience called {notice.audience_segment!r}",
            field="audience",
        )
    return provider(notice)
