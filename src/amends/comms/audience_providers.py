"""Audiences that other apps choose, evaluated set-based like every other audience.

Some audiences are facts only another app knows — "the customers of program REM-… whose
credit billing confirmed and who had not been told" is the remediation app's. Such an app
registers a *provider* under a name (in its ``AppConfig.ready()``); a notice with the
``provided`` audience names its provider in ``audience_provider``. The provider answers with a
condition on ``network_customer c`` and its parameters; ``audience.audience_condition`` puts it
into the statements over the audience — the preview's counts and the one ``INSERT … SELECT``
that creates the outbox rows — so no list of customers ever passes through Python or a query
parameter each.

A provider must answer without reading the audience itself (at most a lookup of its own link
to the notice) and may answer "nobody yet": an app usually links its rows to a notice only
after ``notice_create`` made it (and counted it). What it says in words is asked for a whole
page of notices at once, so that a list of them costs the provider one query, not one a row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from amends.comms.models import Audience, Notice
from amends.core.errors import AmendsError

# notice → (SQL condition on network_customer c, its parameters)
Condition = tuple[str, list[Any]]
AudienceProvider = Callable[[Notice], Condition]
# notices → who each reaches in words by notice id, for the console ("Customers of REM-… told
# of …"): all of a page's notices of the provider in one call
Describer = Callable[[Sequence[Notice]], Mapping[int, str]]

NOBODY: Condition = ("1 = 0", [])

_PROVIDERS: dict[str, AudienceProvider] = {}
_DESCRIBERS: dict[str, Describer] = {}


def register(name: str, provider: AudienceProvider, describe: Describer | None = None) -> None:
    """Add (or replace: ``ready()`` may run twice) the provider called ``name``, and what
    says in words whom notices of it reach."""
    longest = Notice._meta.get_field("audience_provider").max_length
    if not name or len(name) > (longest or 0):
        raise ValueError(f"an audience provider's name has 1 to {longest} characters: {name!r}")
    _PROVIDERS[name] = provider
    if describe is not None:
        _DESCRIBERS[name] = describe


def describe(notice: Notice) -> str:
    """Whom a notice with a provided audience reaches, in the provider's words."""
    return describe_all([notice])[notice.pk]


def describe_all(notices: Iterable[Notice]) -> dict[int, str]:
    """Whom each notice with a provided audience reaches, by notice id (others are left
    out): each provider's describer is called once, with all of its notices."""
    by_provider: dict[str, list[Notice]] = {}
    for notice in notices:
        if notice.audience == Audience.PROVIDED:
            by_provider.setdefault(notice.audience_provider, []).append(notice)
    words: dict[int, str] = {}
    for name, provided in by_provider.items():
        describer = _DESCRIBERS.get(name)
        if describer is None:
            words.update((notice.pk, f"Chosen by {name or 'no app'}") for notice in provided)
        else:
            words.update(describer(provided))
    return words


def provided_condition(notice: Notice) -> Condition:
    """The condition the notice's provider gives; a clear error when there is none."""
    name = notice.audience_provider
    provider = _PROVIDERS.get(name)
    if provider is None:
        if not name:
            raise AmendsError(
                "another app chooses this audience when it sends its own notices (e.g. "
                "remediation's credit notices); choose another audience",
                field="audience",
            )
        raise AmendsError(f"no app provides an audience called {name!r}", field="provider")
    return provider(notice)
