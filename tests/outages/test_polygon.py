"""Polygon scopes are exact: a service metres inside the edge is in, metres outside is out, and
a hole is outside. H3 cells only narrow the search."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import h3
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from amends.core.errors import AmendsError
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.models import Service
from amends.outages.models import Impact, ScopeCell
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_add_scope, outage_declare, outage_preview
from tests.factories import Operator, build_operator

pytestmark = pytest.mark.django_db

# About 7.3 km by 4.4 km in Canberra, with a 900 m by 1.1 km hole; 0.00005° of latitude is 5.5 m.
OUTER = [[149.08, -35.31], [149.16, -35.31], [149.16, -35.27], [149.08, -35.27], [149.08, -35.31]]
HOLE = [
    [149.115, -35.29],
    [149.125, -35.29],
    [149.125, -35.28],
    [149.115, -35.28],
    [149.115, -35.29],
]
WITH_HOLE = {"type": "Polygon", "coordinates": [OUTER, HOLE]}
# (external id, longitude, latitude, inside?)
POINTS = [
    ("IN-5M", 149.12, -35.27005, True),  # 5.5 m inside the north edge
    ("OUT-5M", 149.12, -35.26995, False),  # 5.5 m outside it
    ("HOLE-5M", 149.12, -35.28005, False),  # 5.5 m inside the hole
    ("BY-HOLE-5M", 149.12, -35.27995, True),  # 5.5 m north of the hole, in the polygon
    ("WEST-5M", 149.07994, -35.285, False),  # 5.5 m west of the west edge
    ("DEEP", 149.14, -35.295, True),  # well inside
    ("FAR", 149.20, -35.20, False),
]


@pytest.fixture
def op() -> Operator:
    op = build_operator()
    for external_id, lng, lat, _ in POINTS:
        place(op, external_id, lat=lat, lng=lng)
    place(op, "UNPLACED", lat=None, lng=None)
    return op


def place(op: Operator, external_id: str, *, lat: float | None, lng: float | None) -> None:
    op.services[external_id] = Service.objects.create(
        external_id=external_id,
        customer=op.customers["C1"],
        product=op.products["NBN"],
        monthly_charge_cents=8900,
        postcode="2601",
        locality="Canberra",
        state="ACT",
        remoteness="major_city",
        latitude=lat,
        longitude=lng,
        h3_cell=h3.latlng_to_cell(lat, lng, 8) if lat is not None and lng is not None else "",
    )


def affected(geojson: dict[str, object], *, unplaced: str = "exclude") -> set[str]:
    outage = outage_declare(
        actor="nmc",
        title="Fault",
        scope_items=[ScopeSpec(kind="polygon", geojson=geojson, unplaced=unplaced)],
        started_at=timezone.now() - timedelta(minutes=5),
    ).outage
    return set(Impact.objects.filter(outage=outage).values_list("service__external_id", flat=True))


def test_services_metres_inside_outside_and_in_the_hole(op: Operator) -> None:
    assert affected(WITH_HOLE) == {"IN-5M", "BY-HOLE-5M", "DEEP"}


def test_cells_wholly_inside_match_by_join_and_edge_cells_point_by_point(op: Operator) -> None:
    affected(WITH_HOLE)
    deep_cell = h3.latlng_to_cell(-35.295, 149.14, 8)
    edge_cell = h3.latlng_to_cell(-35.27005, 149.12, 8)
    cells = dict(ScopeCell.objects.values_list("cell", "edge"))
    assert cells[deep_cell] is False and cells[edge_cell] is True
    assert edge_cell == h3.latlng_to_cell(-35.26995, 149.12, 8)  # same cell, one in, one out


def test_a_service_added_later_in_a_cell_wholly_inside_is_covered(op: Operator) -> None:
    outage = outage_declare(
        actor="nmc", title="Fault", scope_items=[ScopeSpec(kind="polygon", geojson=WITH_HOLE)]
    ).outage
    place(op, "NEW", lat=-35.2951, lng=149.1401)
    outage_add_scope(actor="nmc", outage=outage, items=[ScopeSpec(kind="state", state="TAS")])
    open_ids = Impact.objects.filter(outage=outage, window_end__isnull=True)
    assert open_ids.filter(service__external_id="NEW").exists()


def test_a_multipolygon_covers_each_of_its_parts(op: Operator) -> None:
    far = [[149.19, -35.21], [149.21, -35.21], [149.21, -35.19], [149.19, -35.19], [149.19, -35.21]]
    multi = {"type": "MultiPolygon", "coordinates": [[OUTER, HOLE], [far]]}
    assert affected(multi) == {"IN-5M", "BY-HOLE-5M", "DEEP", "FAR"}


def test_a_feature_and_a_polygon_narrower_than_a_cell(op: Operator) -> None:
    sliver = [
        [149.119, -35.2701],
        [149.121, -35.2701],
        [149.121, -35.2700],
        [149.119, -35.2700],
        [149.119, -35.2701],
    ]  # 180 m by 11 m around IN-5M: no cell centre falls in it
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [sliver]}}
    assert affected(feature) == {"IN-5M"}


def test_services_without_coordinates_are_left_out_or_matched_by_postcode(op: Operator) -> None:
    place(op, "UNPLACED-ELSEWHERE", lat=None, lng=None)
    Service.objects.filter(external_id="UNPLACED-ELSEWHERE").update(postcode="2900")
    left_out = outage_preview(scope_items=[ScopeSpec(kind="polygon", geojson=WITH_HOLE)])
    assert (left_out.services, left_out.not_placed, left_out.matched_by_postcode) == (3, 1, 0)
    by_postcode = ScopeSpec(kind="polygon", geojson=WITH_HOLE, unplaced="postcode")
    matched = outage_preview(scope_items=[by_postcode])
    assert (matched.services, matched.not_placed, matched.matched_by_postcode) == (4, 0, 1)
    assert affected(WITH_HOLE, unplaced="postcode") == {"IN-5M", "BY-HOLE-5M", "DEEP", "UNPLACED"}
    with pytest.raises(AmendsError, match="'guess' is not exclude or postcode") as error:
        affected(WITH_HOLE, unplaced="guess")
    assert error.value.field == "scope[0].unplaced"


def test_the_declare_preview_says_how_many_services_are_not_placed(op: Operator) -> None:
    user = staff_user_set(actor="t", username="cora", role=Role.COMMANDER, password="pw-123456-x")
    client = Client()
    client.force_login(user)
    data = {
        "title": "Fibre cut",
        "severity": "major",
        "scope-0-kind": "polygon",
        "scope-0-geojson": json.dumps(WITH_HOLE),
        "scope-0-include": "include",
    }
    body = client.post("/outages/preview/", data, HTTP_HX_REQUEST="true").content.decode()
    assert "3 services, 1 customer</strong> would be affected" in body
    assert "1 service not placed: no coordinates, in the area’s postcodes, left out." in body
    data["scope-0-unplaced"] = "postcode"
    body = client.post("/outages/preview/", data, HTTP_HX_REQUEST="true").content.decode()
    assert "4 services, 1 customer</strong> would be affected" in body
    assert "Includes 1 service without coordinates, matched by postcode." in body


def test_the_cli_chooses_for_services_without_coordinates(op: Operator, tmp_path: Path) -> None:
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps(WITH_HOLE))
    out = StringIO()
    call_command(
        "outage",
        "declare",
        "--title",
        "Fault",
        "--scope",
        f"polygon:@{area}",
        "--unplaced",
        "postcode",
        "--json",
        stdout=out,
    )
    assert json.loads(out.getvalue())["impact"]["newly_affected"] == 4
