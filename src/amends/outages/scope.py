"""Validated scope items: what the commander (or an alert) says an outage covers.

``ScopeSpec`` is the input shape shared by the console, API, CLI and alert intake; ``resolve``
checks it against the database and turns it into the values a ScopeItem stores, raising
AmendsError naming the field on anything wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import h3

from amends.core.errors import AmendsError
from amends.network.importer.specs import H3_RESOLUTION
from amends.network.models import NetworkElement, Product, Service, State
from amends.outages.models import Degree, ScopeKind

MAX_POLYGON_CELLS = 200_000  # about 150,000 km²; larger areas are states or postcodes
_POSTCODE = re.compile(r"\d{4}")


@dataclass
class ScopeSpec:
    kind: str
    include: bool = True
    element: str = ""  # external id
    postcode: str = ""
    locality: str = ""
    state: str = ""
    geojson: dict[str, Any] | None = None
    product: str = ""  # product code, narrows any kind
    services: list[str] = field(default_factory=list)  # external ids
    degree: str = Degree.FULL
    started_at: datetime | None = None


@dataclass
class ResolvedScope:
    """A ScopeSpec checked against the database, ready to store."""

    values: dict[str, Any]
    cells: list[str]
    service_ids: list[int]


def resolve(spec: ScopeSpec, *, prefix: str = "scope") -> ResolvedScope:
    try:
        kind = ScopeKind(spec.kind)
    except ValueError:
        raise AmendsError(
            f"{spec.kind!r} is not a scope kind ({', '.join(ScopeKind.values)})",
            field=f"{prefix}.kind",
        ) from None
    if spec.degree not in Degree.values:
        raise AmendsError(f"{spec.degree!r} is not full or degraded", field=f"{prefix}.degree")
    values: dict[str, Any] = {"kind": kind, "include": spec.include, "degree": spec.degree}
    if spec.product:
        values["product"] = _product(spec.product, f"{prefix}.product")
    elif kind == ScopeKind.PRODUCT:
        raise AmendsError("a product scope needs a product code", field=f"{prefix}.product")
    cells: list[str] = []
    service_ids: list[int] = []
    if kind == ScopeKind.ELEMENT:
        values["element"] = _element(spec.element, f"{prefix}.element")
    elif kind == ScopeKind.POSTCODE:
        values["postcode"] = _postcode(spec.postcode, f"{prefix}.postcode")
    elif kind == ScopeKind.LOCALITY:
        if not spec.locality.strip():
            raise AmendsError("a locality scope needs a locality name", field=f"{prefix}.locality")
        values["locality"] = spec.locality.strip().upper()
        values["state"] = _state(spec.state, f"{prefix}.state")
    elif kind == ScopeKind.STATE:
        values["state"] = _state(spec.state, f"{prefix}.state")
    elif kind == ScopeKind.POLYGON:
        values["geojson"] = spec.geojson
        cells = polygon_cells(spec.geojson, field=f"{prefix}.geojson")
    elif kind == ScopeKind.SERVICES:
        service_ids = _services(spec.services, f"{prefix}.services")
    return ResolvedScope(values, cells, service_ids)


def _product(code: str, where: str) -> Product:
    product = Product.objects.filter(code=code).first()
    if product is None:
        raise AmendsError(f"unknown product {code!r}", field=where)
    return product


def _element(external_id: str, where: str) -> NetworkElement:
    if not external_id:
        raise AmendsError("an element scope needs a network element id", field=where)
    element = NetworkElement.objects.filter(external_id=external_id).first()
    if element is None:
        raise AmendsError(f"unknown network element {external_id!r}", field=where)
    return element


def _postcode(value: str, where: str) -> str:
    if not _POSTCODE.fullmatch(value.strip()):
        raise AmendsError(f"{value!r} is not a 4-digit postcode", field=where)
    return value.strip()


def _state(value: str, where: str) -> str:
    state = value.strip().upper()
    if state not in State.values:
        raise AmendsError(
            f"{value!r} is not a state or territory ({', '.join(State.values)})", field=where
        )
    return state


def _services(external_ids: list[str], where: str) -> list[int]:
    if not external_ids:
        raise AmendsError("a services scope needs at least one service id", field=where)
    wanted = set(external_ids)
    found = dict(Service.objects.filter(external_id__in=wanted).values_list("external_id", "id"))
    missing = sorted(wanted - found.keys())
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise AmendsError(f"{len(missing)} unknown service id(s): {shown}", field=where)
    return sorted(found.values())


def polygon_cells(geojson: Any, *, field: str) -> list[str]:
    """The H3 cells whose centres fall inside a GeoJSON Polygon or MultiPolygon."""
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise AmendsError("must be a GeoJSON Polygon or MultiPolygon", field=field)
    try:
        shape = h3.geo_to_h3shape(geojson)
        cells = h3.h3shape_to_cells(shape, H3_RESOLUTION)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise AmendsError(f"is not a valid polygon: {exc}", field=field) from None
    except h3.H3BaseException as exc:
        raise AmendsError(f"is not a valid polygon: {exc}", field=field) from None
    if not cells:
        raise AmendsError(
            "covers no area (is it closed, and in longitude, latitude order?)", field=field
        )
    if len(cells) > MAX_POLYGON_CELLS:
        raise AmendsError(
            f"covers {len(cells):,} cells; the limit is {MAX_POLYGON_CELLS:,}: use state, "
            "postcode or network scope for areas this large",
            field=field,
        )
    return sorted(cells)
