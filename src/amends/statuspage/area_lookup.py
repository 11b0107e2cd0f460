"""The area lookup (``/status/lookup?postcode=2000`` or ``?locality=Parramatta&state=NSW``):
checking the question, and answering it from the precomputed index files of the published
site, never from the database.

The index, written by every publish (``site.py``)::

    lookup/<postcode>.json                 one per postcode an open or recent outage reached
    lookup/locality/<STATE>/<shard>.json   the localities of one state whose key (see
                                           ``queries.locality_key``) starts with <shard>: a
                                           letter or digit, else ``other``

Localities are sharded by state and first letter because a national outage reaches thousands
of them: one file each would be thousands of files per publish, one file per state a large
read per answer. A shard holds the facts of each outage once and, per locality, its
postcodes and which outages reached it with which services.

An unknown place gets "no known outages" and, when cheap, the places of the same shard with a
similar name that do have outages (a typo past the first letter is the common case).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from django.http import QueryDict
from django.utils.dateparse import parse_datetime

from amends.network.models import State
from amends.statuspage.queries import LocalityEntry, LookupOutage, locality_key

if TYPE_CHECKING:  # serving imports the publisher, which imports the site that imports this
    from amends.statuspage.serving import Version

POSTCODE = re.compile(r"[0-9]{4}")
PLACE_MAX = 60  # characters; the longest Australian locality names are about 40
_PLACE = re.compile(r"[\w '’.,()&/-]+")
_LETTER = re.compile(r"[^\W\d_]")
QUESTION_FIELDS = ("postcode", "locality", "state")
SUGGESTIONS = 5
_SIMILAR = 0.75  # difflib ratio from which a name counts as close


def locality_shard(key: str) -> str:
    first = key[:1]
    return first if first.isascii() and first.isalnum() else "other"


def locality_index_path(state: str, shard: str) -> str:
    return f"lookup/locality/{state}/{shard}.json"


def postcode_index_path(postcode: str) -> str:
    return f"lookup/{postcode}.json"


# --- the question -------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A lookup as asked, cleaned for showing back in the form, with what is wrong with it
    (field name → key of the message in ``strings``)."""

    postcode: str = ""
    locality: str = ""
    state: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def query(self, **extra: str) -> str:
        """The question as a query string, e.g. for the same answer in another language."""
        params = QueryDict(mutable=True)
        for name in QUESTION_FIELDS:
            if getattr(self, name):
                params[name] = getattr(self, name)
        params.update(extra)
        return params.urlencode()


def _place_problem(locality: str) -> bool:
    return (
        len(locality) > PLACE_MAX
        or not _PLACE.fullmatch(locality)
        or not _LETTER.search(locality)
        or not locality_key(locality)
    )


def read_question(params: QueryDict) -> Question | None:
    """The question in a request's parameters; None when none was asked (the blank form).
    Every field given must be well formed; a postcode, if given, is what is looked up."""
    if not any(name in params for name in QUESTION_FIELDS):
        return None
    postcode = params.get("postcode", "").strip()
    locality = " ".join(params.get("locality", "").split())
    state = params.get("state", "").strip().upper()
    errors: dict[str, str] = {}
    if postcode and not POSTCODE.fullmatch(postcode):
        errors["postcode"] = "lookup_bad"
    if locality and _place_problem(locality):
        errors["locality"] = "lookup_bad_place"
    if state and state not in State.values:
        errors["state"] = "err_state"
    if not postcode and not locality and not errors:
        errors["postcode"] = "lookup_empty"
    # Shown back in the form (escaped): never more than a field could hold.
    return Question(postcode[:12], locality[:PLACE_MAX], state[:12], errors)


# --- the answer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The outages of one area: a postcode (``places`` are its localities) or a locality of
    one state (``places`` are its postcodes)."""

    area: str
    by_postcode: bool
    places: tuple[str, ...]
    outages: tuple[LookupOutage, ...]


@dataclass(frozen=True)
class Suggestion:
    name: str
    state: str


@dataclass(frozen=True)
class Result:
    area: str  # what was asked about, for "no known outages in …"
    answers: tuple[Answer, ...]
    suggestions: tuple[Suggestion, ...] = ()
    subscribe_postcode: str = ""  # the postcode to offer subscriptions for, if just one


def _read(version: Version, path: str) -> Any:
    if path not in version.manifest:
        return None
    return json.loads((version.directory / path).read_bytes())


def _when(value: str | None) -> Any:
    return parse_datetime(value) if value else None


def _lookup_outage(facts: dict[str, Any], reference: str, here: dict[str, Any]) -> LookupOutage:
    """An outage as the index stores it: its ``facts`` and what it did ``here``."""
    return LookupOutage(
        reference=reference,
        title=facts["title"],
        status=facts["status"],
        still_affected=here["still_affected"],
        kinds=tuple(here["services"]),
        etr=_when(facts["etr"]),
        restored_at=_when(facts["restored_at"]),
    )


def answer_postcode(version: Version, postcode: str) -> Result:
    data = _read(version, postcode_index_path(postcode))
    if not data or not data["outages"]:
        return Result(postcode, (), subscribe_postcode=postcode)
    outages = tuple(_lookup_outage(o, o["reference"], o) for o in data["outages"])
    answer = Answer(postcode, True, tuple(data["places"]), outages)
    return Result(postcode, (answer,), subscribe_postcode=postcode)


def _locality_answer(data: dict[str, Any], found: dict[str, Any]) -> Answer:
    outages = tuple(
        _lookup_outage(data["outages"][here["reference"]], here["reference"], here)
        for here in found["outages"]
    )
    return Answer(f"{found['name']} {data['state']}", False, tuple(found["postcodes"]), outages)


def _similar(key: str, candidates: dict[tuple[str, str], str]) -> tuple[Suggestion, ...]:
    """Up to ``SUGGESTIONS`` places whose key is close to ``key`` or starts with it (or it
    with theirs), closest first. Like ``difflib.get_close_matches``: ``key`` is the matcher's
    second sequence, whose index is built once, and the cheap upper bounds go first."""
    matcher = SequenceMatcher()
    matcher.set_seq2(key)
    scored = []
    for (state, other), name in candidates.items():
        matcher.set_seq1(other)
        prefix = min(len(key), len(other)) >= 3 and (other.startswith(key) or key.startswith(other))
        if prefix or (matcher.real_quick_ratio() >= _SIMILAR and matcher.quick_ratio() >= _SIMILAR):
            ratio = matcher.ratio()
            if prefix or ratio >= _SIMILAR:
                scored.append((-ratio, name, state))
    return tuple(Suggestion(name, state) for _, name, state in sorted(scored)[:SUGGESTIONS])


def answer_locality(version: Version, locality: str, state: str) -> Result:
    """The locality in ``state``, or in every state when none is given (a name like Richmond
    is in several)."""
    key = locality_key(locality)
    shard = locality_shard(key)
    answers: list[Answer] = []
    candidates: dict[tuple[str, str], str] = {}
    for code in [state] if state else State.values:
        data = _read(version, locality_index_path(code, shard))
        if data is None:
            continue
        found = data["localities"].get(key)
        if found:
            answers.append(_locality_answer(data, found))
        candidates |= {(code, other): entry["name"] for other, entry in data["localities"].items()}
    area = f"{locality} {state}".strip()
    if not answers:
        return Result(area, (), _similar(key, candidates))
    postcodes = {postcode for answer in answers for postcode in answer.places}
    single = next(iter(postcodes)) if len(postcodes) == 1 else ""
    return Result(area, tuple(answers), subscribe_postcode=single)


def answer(version: Version, question: Question) -> Result:
    if question.postcode:
        return answer_postcode(version, question.postcode)
    return answer_locality(version, question.locality, question.state)


# --- the index files (written at publish) ----------------------------------------------------


def locality_shards(
    localities: dict[tuple[str, str], LocalityEntry],
) -> dict[tuple[str, str], dict[str, LocalityEntry]]:
    """The localities grouped into their files: (state, shard) → key → entry."""
    shards: dict[tuple[str, str], dict[str, LocalityEntry]] = {}
    for (state, key), entry in sorted(localities.items()):
        shards.setdefault((state, locality_shard(key)), {})[key] = entry
    return shards
