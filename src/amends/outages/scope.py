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
import shapely
import shapely.geometry
import shapely.validation
from django.db.models import Q
from shapely.geometry.base import BaseGeometry

from amends.core.errors import AmendsError
from amends.network.importer.specs import H3_RESOLUTION
from amends.network.models import NetworkElement, Product, Service, State
from amends.outages.models import Degree, ScopeKind

MAX_POLYGON_CELLS = 200_000  # about 150,000 km²; larger areas are states or postcodes
# A cell counts as wholly inside a polygon only with this much to spare (about a metre): the
# planar cell outline and H3's own cell boundaries differ by far less.
_EDGE_MARGIN_DEGREES = 1e-5
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
    # A polygon's services without coordinates, in the postcodes of the services it covers:
    # left out ("exclude"), or matched by their postcode ("postcode").
    unplaced: str = "exclude"


UNPLACED_CHOICES = {
    "exclude": "Leave out",
    "postcode": "Match by their postcode",
}


@dataclass
class ResolvedScope:
    """A ScopeSpec checked against the database, ready to store."""

    values: dict[str, Any]
    cells: list[str]  # a polygon's H3 cells wholly inside it
    service_ids: list[int]  # listed services; a polygon's services found in its edge cells
    edge_cells: list[str] = field(default_factory=list)
    # A polygon's services without coordinates in the postcodes it covers (see ScopeSpec).
    not_placed: int = 0


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
        if spec.unplaced not in UNPLACED_CHOICES:
            raise AmendsError(
                f"{spec.unplaced!r} is not {' or '.join(UNPLACED_CHOICES)}",
                field=f"{prefix}.unplaced",
            )
        match = polygon_match(spec.geojson, field=f"{prefix}.geojson")
        unplaced = _unplaced(match)
        values["geojson"] = spec.geojson
        chosen = unplaced if spec.unplaced == "postcode" else []
        return ResolvedScope(
            values,
            match.cells,
            sorted([*match.service_ids, *chosen]),
            edge_cells=match.edge_cells,
            not_placed=len(unplaced),
        )
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


def _geometry(geojson: Any, field: str) -> BaseGeometry:
    """The GeoJSON Polygon or MultiPolygon (or a Feature of one) as a valid shapely shape."""
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise AmendsError("must be a GeoJSON Polygon or MultiPolygon", field=field)
    try:
        geometry = shapely.geometry.shape(geojson)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise AmendsError(f"is not a valid polygon: {exc}", field=field) from None
    if geometry.is_empty or geometry.area == 0:
        raise AmendsError(
            "covers no area (is it closed, and in longitude, latitude order?)", field=field
        )
    if not geometry.is_valid:
        raise AmendsError(
            f"is not a valid polygon: {shapely.validation.explain_validity(geometry)}", field=field
        )
    return geometry


def polygon_match(geojson: Any, *, field: str) -> ResolvedScope:
    """Exactly the services whose coordinates lie in a GeoJSON Polygon or MultiPolygon (holes
    left out; a point on the edge is in), with H3 cells as the prefilter.

    The cells the polygon overlaps are split in two: a cell wholly inside it (with a metre to
    spare) has all its services inside, now and as services are added, so it is matched by an
    indexed join; an edge cell (crossed by the boundary or a hole's) has each of its services
    checked point by point here, and those inside are stored as the item's services. A service
    without coordinates has no cell and is never in a polygon.
    """
    geometry = _geometry(geojson, field)
    try:
        cells = h3.h3shape_to_cells_experimental(
            h3.geo_to_h3shape(shapely.geometry.mapping(geometry)), H3_RESOLUTION, "overlap"
        )
    except (ValueError, TypeError, h3.H3BaseException) as exc:
        raise AmendsError(f"is not a valid polygon: {exc}", field=field) from None
    if len(cells) > MAX_POLYGON_CELLS:
        raise AmendsError(
            f"covers {len(cells):,} cells; the limit is {MAX_POLYGON_CELLS:,}: use state, "
            "postcode or network scope for areas this large",
            field=field,
        )
    outlines = [
        shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]) for cell in cells
    ]
    core = geometry.buffer(-_EDGE_MARGIN_DEGREES)
    shapely.prepare(core)
    inside = shapely.contains(core, outlines) if outlines else []
    inside_cells = sorted(c for c, whole in zip(cells, inside, strict=True) if whole)
    edge_cells = sorted(c for c, whole in zip(cells, inside, strict=True) if not whole)
    return ResolvedScope(
        {}, inside_cells, _services_inside(geometry, edge_cells), edge_cells=edge_cells
    )


def _unplaced(match: ResolvedScope) -> list[int]:
    """The active services without coordinates in the postcodes of the services a polygon
    covers: no polygon can place them, so the commander chooses (``ScopeSpec.unplaced``)."""
    postcodes: set[str] = set()
    for start in range(0, len(match.cells), 5000):  # bounded IN lists on SQLite
        postcodes.update(
            Service.objects.filter(h3_cell__in=match.cells[start : start + 5000])
            .values_list("postcode", flat=True)
            .distinct()
        )
    postcodes.update(
        Service.objects.filter(pk__in=match.service_ids)
        .values_list("postcode", flat=True)
        .distinct()
    )
    unplaced = Service.objects.filter(postcode__in=postcodes - {""}, is_active=True).filter(
        Q(latitude__isnull=True) | Q(longitude__isnull=True)
    )
    return sorted(unplaced.values_list("pk", flat=True))


def _services_inside(geometry: BaseGeometry, cells: list[str]) -> list[int]:
    """The services of ``cells`` whose point is in ``geometry`` (one vectorised test)."""
    rows: list[tuple[int, float | None, float | None]] = []
    for start in range(0, len(cells), 5000):  # bounded IN lists on SQLite
        rows += Service.objects.filter(
            h3_cell__in=cells[start : start + 5000], latitude__isnull=False
        ).values_list("id", "longitude", "latitude")
    if not rows:
        return []
    ids, xs, ys = zip(*rows, strict=True)
    inside = shapely.intersects_xy(geometry, xs, ys)
    return sorted(sid for sid, hit in zip(ids, inside, strict=True) if hit)
