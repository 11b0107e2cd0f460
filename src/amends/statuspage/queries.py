"""Everything the public site shows, read once into plain frozen objects.

The renderer never touches the ORM: what reaches a page is exactly what is built here, so the
rule "no customer on a public page" is checked in one place. Only public updates, public texts,
areas, product kinds, counts and times are read; customer and service tables are reached only
through the grouped digest (``digest.py``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone

from amends.network.models import Product, ProductKind, State
from amends.outages.models import (
    OPEN_STATUSES,
    Classification,
    Degree,
    Outage,
    ScopeItem,
    ScopeKind,
    Severity,
    Update,
    Visibility,
)
from amends.statuspage.digest import DigestRow, outage_digests
from amends.statuspage.models import OutageDigest


@dataclass(frozen=True)
class PublicUpdate:
    id: int
    status: str
    message: str
    created_at: datetime


@dataclass(frozen=True)
class AreaGroup:
    """The places of one state an outage reached, and whether any is still affected."""

    state: str
    localities: tuple[str, ...]
    still_affected: bool
    whole_state: bool


@dataclass(frozen=True)
class PublicOutage:
    reference: str
    title: str
    summary: str
    cause: str
    status: str
    severity: str
    classification: str
    started_at: datetime
    restored_at: datetime | None
    resolved_at: datetime | None
    etr: datetime | None
    next_update_by: datetime | None
    updated_at: datetime
    affected_services: int
    kinds: tuple[str, ...]
    areas: tuple[AreaGroup, ...]
    updates: tuple[PublicUpdate, ...]  # oldest first

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def ended_at(self) -> datetime | None:
        return self.restored_at or self.resolved_at

    @property
    def latest_update(self) -> PublicUpdate | None:
        return self.updates[-1] if self.updates else None

    @property
    def localities(self) -> list[str]:
        return [place for area in self.areas for place in area.localities]


@dataclass(frozen=True)
class LookupOutage:
    reference: str
    title: str
    status: str
    still_affected: bool
    kinds: tuple[str, ...]
    etr: datetime | None
    restored_at: datetime | None


@dataclass
class LookupEntry:
    """What the lookup says about one postcode: its places and the outages that reached it."""

    postcode: str
    places: set[str] = field(default_factory=set)
    outages: list[LookupOutage] = field(default_factory=list)


@dataclass
class LocalityEntry:
    """What the lookup says about one locality of one state: its postcodes and the outages
    that reached it."""

    state: str
    name: str
    postcodes: set[str] = field(default_factory=set)
    outages: list[LookupOutage] = field(default_factory=list)


@lru_cache(maxsize=1 << 16)  # a national outage's digest names each locality many times
def locality_key(name: str) -> str:
    """How the lookup matches a locality: case, spaces and punctuation do not count, so
    "wagga  wagga", "WaggaWagga" and "Wagga-Wagga" all find Wagga Wagga."""
    return re.sub(r"[\W_]+", "", name.casefold())


@dataclass(frozen=True)
class Component:
    """A Statuspage component: a product kind (a group) or a product kind in one state."""

    id: str
    name: str
    status: str
    position: int
    group_id: str | None = None
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteSnapshot:
    generated_at: datetime
    operator: str
    help_line: str
    urgent_help: str
    base_url: str
    current: tuple[PublicOutage, ...]
    recent: tuple[PublicOutage, ...]
    history: tuple[PublicOutage, ...]  # every outage in the history window, newest first
    lookup: dict[str, LookupEntry]
    localities: dict[tuple[str, str], LocalityEntry]  # by (state, locality_key)
    components: tuple[Component, ...]

    @property
    def featured(self) -> tuple[PublicOutage, ...]:
        """Outages with a page in every language (the others have an English page)."""
        return self.current + self.recent


# Statuspage's component statuses, least to most severe.
COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage")


def _areas(rows: list[DigestRow], whole_states: set[str]) -> tuple[AreaGroup, ...]:
    places: dict[str, set[str]] = defaultdict(set)
    still: dict[str, bool] = defaultdict(bool)
    for state, _postcode, locality, _kind, _degree, services, still_affected in rows:
        if services:
            places[state].add(locality.title())
            still[state] |= still_affected > 0
    return tuple(
        AreaGroup(state, tuple(sorted(places[state])), still[state], state in whole_states)
        for state in sorted(places)
    )


def _kinds(rows: list[DigestRow]) -> tuple[str, ...]:
    present = {row[3] for row in rows if row[5]}
    return tuple(kind for kind in ProductKind.values if kind in present)


def _public_outage(outage: Outage, rows: list[DigestRow]) -> PublicOutage:
    updates = tuple(
        PublicUpdate(u.pk, u.status, u.message, u.created_at)
        for u in outage.updates.all()  # prefetched: public ones only
    )
    whole_states = {item.state for item in outage.scope_items.all() if item.kind == ScopeKind.STATE}
    times = [outage.started_at, outage.restored_at, outage.resolved_at]
    times += [u.created_at for u in updates]
    return PublicOutage(
        reference=outage.reference,
        title=outage.title,
        summary=outage.public_summary,
        cause=outage.cause_public,
        status=outage.status,
        severity=outage.severity,
        classification=outage.classification,
        started_at=outage.started_at,
        restored_at=outage.restored_at,
        resolved_at=outage.resolved_at,
        etr=outage.etr,
        next_update_by=outage.next_update_by,
        updated_at=max(t for t in times if t is not None),
        affected_services=outage.affected_services,
        kinds=_kinds(rows),
        areas=_areas(rows, whole_states),
        updates=updates,
    )


def _outages_in_window(now: datetime) -> list[Outage]:
    since = now - timedelta(days=settings.AMENDS_STATUSPAGE_HISTORY_DAYS)
    public_updates = Update.objects.filter(visibility=Visibility.PUBLIC).order_by(
        "created_at", "id"
    )
    include_items = ScopeItem.objects.filter(include=True, kind=ScopeKind.STATE)
    return list(
        Outage.objects.filter(Q(started_at__gte=since) | Q(status__in=OPEN_STATUSES))
        .exclude(reference__startswith="PREVIEW-")
        .order_by("-started_at", "-id")
        .prefetch_related(
            Prefetch("updates", queryset=public_updates),
            Prefetch("scope_items", queryset=include_items),
        )
    )


Area = TypeVar("Area", bound=Hashable)
KIND_ORDER = tuple(ProductKind.values)  # the order service kinds are listed in


@dataclass
class _Reach:
    """Where one outage reached one area: the product kinds, whether any service there is
    still out, and the area's places (localities of a postcode, postcodes of a locality)."""

    kinds: set[str] = field(default_factory=set)
    still: bool = False
    places: set[str] = field(default_factory=set)

    def lookup_outage(self, outage: PublicOutage) -> LookupOutage:
        return LookupOutage(
            reference=outage.reference,
            title=outage.title,
            status=outage.status,
            still_affected=self.still and outage.is_open,
            kinds=tuple(k for k in KIND_ORDER if k in self.kinds),
            etr=outage.etr,
            restored_at=outage.ended_at,
        )


def _reach(
    rows: list[DigestRow], area: Callable[[DigestRow], Area], place: Callable[[DigestRow], str]
) -> dict[Area, _Reach]:
    """One outage's digest rows with services, grouped by the ``area`` of each row."""
    reached: dict[Area, _Reach] = defaultdict(_Reach)
    for row in rows:
        if row[5]:  # services
            found = reached[area(row)]
            found.kinds.add(row[3])
            found.still |= row[6] > 0
            found.places.add(place(row))
    return reached


Featured = list[tuple[PublicOutage, list[DigestRow]]]


def _postcode_lookup(featured: Featured) -> dict[str, LookupEntry]:
    entries: dict[str, LookupEntry] = {}
    for outage, rows in featured:
        by_postcode = _reach(rows, lambda row: row[1], lambda row: f"{row[2].title()} {row[0]}")
        for postcode, reach in by_postcode.items():
            entry = entries.setdefault(postcode, LookupEntry(postcode))
            entry.places |= reach.places
            entry.outages.append(reach.lookup_outage(outage))
    return entries


def _state_and_key(row: DigestRow) -> tuple[str, str]:
    return row[0], locality_key(row[2])


def _locality_lookup(featured: Featured) -> dict[tuple[str, str], LocalityEntry]:
    """The lookup by place name. Spellings that differ only in case or punctuation are one
    locality, shown as the first spelling met (rows are sorted, so always the same one)."""
    entries: dict[tuple[str, str], LocalityEntry] = {}
    for outage, rows in featured:
        for row in rows:
            key = _state_and_key(row)
            if row[5] and key not in entries:  # services
                entries[key] = LocalityEntry(row[0], row[2].title())
        for key, reach in _reach(rows, _state_and_key, lambda row: row[1]).items():
            entries[key].postcodes |= reach.places
            entries[key].outages.append(reach.lookup_outage(outage))
    return entries


def _component_kinds() -> list[str]:
    configured = settings.AMENDS_STATUSPAGE_COMPONENT_KINDS
    if configured:
        return list(configured)
    sold = set(Product.objects.values_list("kind", flat=True).distinct())
    return [kind for kind in ProductKind.values if kind in sold]


def _severity_status(outage: PublicOutage, degree: str) -> str:
    if degree == Degree.DEGRADED:
        return "degraded_performance"
    if outage.severity == Severity.CRITICAL or outage.classification == Classification.MAJOR:
        return "major_outage"
    return "partial_outage"


def _components(current: list[tuple[PublicOutage, list[DigestRow]]]) -> tuple[Component, ...]:
    """Product kinds × states, each as bad as the worst open outage still affecting it."""
    worst: dict[tuple[str, str], int] = defaultdict(int)
    for outage, rows in current:
        for state, _pc, _loc, kind, degree, _services, still in rows:
            if still:
                rank = COMPONENT_STATUSES.index(_severity_status(outage, degree))
                worst[(kind, state)] = max(worst[(kind, state)], rank)
    states = settings.AMENDS_STATUSPAGE_COMPONENT_STATES or list(State.values)
    found: list[Component] = []
    for position, kind in enumerate(_component_kinds()):
        children = tuple(f"{kind}-{state}".lower() for state in states)
        group_rank = max((worst[(kind, s)] for s in states), default=0)
        label = ProductKind(kind).label
        found.append(
            Component(kind, label, COMPONENT_STATUSES[group_rank], position, None, children)
        )
        found += [
            Component(
                child,
                f"{label} — {state}",
                COMPONENT_STATUSES[worst[(kind, state)]],
                position * 100 + i + 1,
                kind,
            )
            for i, (child, state) in enumerate(zip(children, states, strict=True))
        ]
    return tuple(found)


def site_snapshot(*, now: datetime | None = None) -> SiteSnapshot:
    """Read what the public site shows at ``now``, refreshing outage digests as needed."""
    now = now or timezone.now()
    outages = _outages_in_window(now)
    recent_days = settings.AMENDS_STATUSPAGE_RECENT_DAYS
    digests = outage_digests(outages, now=now, recent_days=recent_days)
    public = [(_public_outage(o, digests[o.pk]), digests[o.pk]) for o in outages]
    recent_since = now - timedelta(days=recent_days)
    current = [(p, rows) for p, rows in public if p.is_open]
    recent = [
        (p, rows) for p, rows in public if not p.is_open and (p.ended_at or now) >= recent_since
    ]
    return SiteSnapshot(
        generated_at=now,
        operator=settings.AMENDS_OPERATOR_NAME,
        help_line=settings.AMENDS_HELP_LINE,
        urgent_help=settings.AMENDS_URGENT_HELP,
        base_url=settings.AMENDS_STATUSPAGE_URL,
        current=tuple(p for p, _ in current),
        recent=tuple(p for p, _ in recent),
        history=tuple(p for p, _ in public),
        lookup=_postcode_lookup(current + recent),
        localities=_locality_lookup(current + recent),
        components=_components(current),
    )


@dataclass(frozen=True)
class PublicFootprint:
    """What the public may know of where an outage is: for messages to status subscribers."""

    areas: tuple[AreaGroup, ...]
    kinds: tuple[str, ...]
    states: tuple[str, ...]


def public_footprint(outage: Outage) -> PublicFootprint:
    """The outage's areas and service kinds, from the digest the last publish stored when it
    is as new as the outage, else grouped (and stored) now."""
    digest = OutageDigest.objects.filter(outage=outage, computed_at__gte=outage.updated_at).first()
    if digest is not None:
        rows = digest.rows
    else:
        recent_days = settings.AMENDS_STATUSPAGE_RECENT_DAYS
        rows = outage_digests([outage], now=timezone.now(), recent_days=recent_days)[outage.pk]
    whole_states = set(
        outage.scope_items.filter(include=True, kind=ScopeKind.STATE).values_list(
            "state", flat=True
        )
    )
    areas = _areas(rows, whole_states)
    return PublicFootprint(areas, _kinds(rows), tuple(area.state for area in areas))
