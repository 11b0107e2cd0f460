"""The synthetic data generator: formats, determinism, proportions and referential integrity."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from statistics import mean

import pytest
from django.core.management import CommandError, call_command

from amends.network.generator import generate, load_localities

KINDS = ("teams", "products", "network", "customers", "services")
HEADERS = {
    "teams": "external_id,name,email",
    "products": "code,name,kind,monthly_charge",
    "network": "external_id,name,kind,parent_external_id,state,latitude,longitude",
    "customers": (
        "external_id,name,preferred_name,segment,language,email,mobile,phone,push_token,"
        "channel_order,consent_email,consent_sms,consent_push,consent_voice,time_zone,"
        "quiet_hours_start,quiet_hours_end,priority_assistance,accessibility_needs,"
        "team_external_id,is_former,payment_reference"
    ),
    "services": (
        "external_id,customer_external_id,product_code,monthly_charge,address,postcode,"
        "locality,state,remoteness,latitude,longitude,element_external_id,sla_tier,is_active"
    ),
}
TIME_ZONES = {
    "NSW": "Australia/Sydney",
    "ACT": "Australia/Sydney",
    "VIC": "Australia/Melbourne",
    "TAS": "Australia/Hobart",
    "QLD": "Australia/Brisbane",
    "WA": "Australia/Perth",
    "SA": "Australia/Adelaide",
    "NT": "Australia/Darwin",
}
LANDLINE_AREA = {"NSW": "2", "ACT": "2", "VIC": "3", "TAS": "3", "QLD": "7"}
SEGMENT_PRODUCTS = {
    "consumer": {"MOB-BASIC", "MOB-PLUS", "NBN-50", "NBN-100", "NBN-1000", "VOICE-HOME", "TV-STD"},
    "small_business": {"BIZ-NBN-100", "BIZ-MOB"},
    "enterprise": {"ENT-FIBRE", "BIZ-MOB"},
    "government": {"ENT-FIBRE", "BIZ-MOB"},
}
SLA_TIERS = {
    "consumer": "standard",
    "small_business": "business",
    "enterprise": "enterprise",
    "government": "enterprise",
}
N = 20_000

Rows = list[dict[str, str]]
Index = dict[str, dict[str, dict[str, str]]]


def read_csv(path: Path) -> Rows:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    counts = generate(customers=N, out_dir=out, seed=1)
    assert counts["customers"] == N
    return out


@pytest.fixture(scope="module")
def data(out_dir: Path) -> dict[str, Rows]:
    return {kind: read_csv(out_dir / f"{kind}.csv") for kind in KINDS}


@pytest.fixture(scope="module")
def by_id(data: dict[str, Rows]) -> Index:
    return {
        "customers": {row["external_id"]: row for row in data["customers"]},
        "network": {row["external_id"]: row for row in data["network"]},
        "products": {row["code"]: row for row in data["products"]},
    }


def share(rows: Rows, predicate: Callable[[dict[str, str]], bool]) -> float:
    return sum(1 for row in rows if predicate(row)) / len(rows)


# Files and formats


def test_counts_match_files(tmp_path: Path) -> None:
    counts = generate(customers=300, out_dir=tmp_path, seed=3)
    assert set(counts) == set(KINDS)
    for kind in KINDS:
        assert len(read_csv(tmp_path / f"{kind}.csv")) == counts[kind]


def test_headers_are_exactly_as_specified(out_dir: Path) -> None:
    for kind, header in HEADERS.items():
        with (out_dir / f"{kind}.csv").open(encoding="utf-8") as handle:
            assert handle.readline() == header + "\n"


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate(customers=2_000, out_dir=tmp_path / "a", seed=7)
    generate(customers=2_000, out_dir=tmp_path / "b", seed=7)
    for kind in KINDS:
        name = f"{kind}.csv"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate(customers=2_000, out_dir=tmp_path / "a", seed=7)
    generate(customers=2_000, out_dir=tmp_path / "b", seed=8)
    for kind in ("network", "customers", "services"):
        name = f"{kind}.csv"
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_jsonl_has_the_same_rows_typed(
    out_dir: Path, data: dict[str, Rows], tmp_path: Path
) -> None:
    generate(customers=N, out_dir=tmp_path, seed=1, fmt="jsonl")
    for kind in KINDS:
        objects = read_jsonl(tmp_path / f"{kind}.jsonl")
        assert len(objects) == len(data[kind])
        for obj, row in zip(objects, data[kind], strict=True):
            assert list(obj) == HEADERS[kind].split(",")
            for key, value in obj.items():
                if isinstance(value, bool):
                    assert row[key] == ("true" if value else "false")
                elif isinstance(value, float):
                    assert key in ("latitude", "longitude")
                    assert value == float(row[key])
                else:
                    assert value == row[key], (kind, key)
    service = read_jsonl(tmp_path / "services.jsonl")[0]
    assert isinstance(service["monthly_charge"], str)
    assert isinstance(service["is_active"], bool)
    assert isinstance(service["latitude"], float)


def test_unknown_format_and_no_customers_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fmt"):
        generate(customers=1, out_dir=tmp_path, fmt="xml")
    with pytest.raises(ValueError, match="at least 1"):
        generate(customers=0, out_dir=tmp_path)


# Reference tables


def test_localities_table() -> None:
    localities = load_localities()
    assert len(localities) >= 150
    assert {loc.state for loc in localities} == set(TIME_ZONES)
    assert {loc.remoteness for loc in localities} == {"major_city", "regional", "remote"}
    first_digits = {"NSW": "2", "ACT": "2", "VIC": "3", "QLD": "4", "SA": "5", "WA": "6"}
    first_digits |= {"TAS": "7", "NT": "0"}
    for loc in localities:
        assert re.fullmatch(r"\d{4}", loc.postcode)
        assert loc.postcode[0] == first_digits[loc.state], loc
        assert -44 < loc.latitude < -10 and 112 < loc.longitude < 160, loc
        assert loc.weight > 0
    known = {(loc.name, loc.postcode, loc.state) for loc in localities}
    for example in [
        ("Sydney", "2000", "NSW"),
        ("Broken Hill", "2880", "NSW"),
        ("Melbourne", "3000", "VIC"),
        ("Cairns", "4870", "QLD"),
        ("Kalgoorlie", "6430", "WA"),
        ("Coober Pedy", "5723", "SA"),
        ("Launceston", "7250", "TAS"),
        ("Canberra", "2600", "ACT"),
        ("Alice Springs", "0870", "NT"),
    ]:
        assert example in known
    assert len({(loc.name, loc.state) for loc in localities}) == len(localities)


def test_teams_and_products(data: dict[str, Rows]) -> None:
    teams = {row["external_id"]: row for row in data["teams"]}
    assert teams["TEAM-NSW-CONSUMER"]["email"] == "nsw.consumer@care.example.net"
    assert {team_id.split("-")[1] for team_id in teams} == set(TIME_ZONES)
    products = {row["code"]: row for row in data["products"]}
    assert products["NBN-50"] == {
        "code": "NBN-50",
        "name": "Home Internet 50",
        "kind": "fixed_broadband",
        "monthly_charge": "89.00",
    }
    assert products["ENT-FIBRE"]["monthly_charge"] == "899.00"
    assert {row["kind"] for row in products.values()} == {
        "mobile",
        "fixed_broadband",
        "voice",
        "tv",
    }


# Network tree


def test_network_parents_come_first_and_levels_nest(data: dict[str, Rows]) -> None:
    parent_kind = {"core": "", "region": "core", "exchange": "region", "node": "exchange"}
    parent_kind["cell"] = "exchange"
    seen: dict[str, dict[str, str]] = {}
    for row in data["network"]:
        assert re.fullmatch(r"[A-Z0-9-]+", row["external_id"])
        assert row["external_id"] not in seen
        parent_id = row["parent_external_id"]
        if row["kind"] == "core":
            assert parent_id == "" and row["state"] == ""
        else:
            assert seen[parent_id]["kind"] == parent_kind[row["kind"]]
            assert row["state"] in TIME_ZONES
            if row["kind"] != "region":
                assert row["state"] == seen[parent_id]["state"]
        float(row["latitude"]), float(row["longitude"])
        seen[row["external_id"]] = row
    assert sum(1 for row in data["network"] if row["kind"] == "core") == 2


def test_every_locality_has_an_exchange_with_a_node_and_a_cell(data: dict[str, Rows]) -> None:
    exchanges = {row["external_id"]: row for row in data["network"] if row["kind"] == "exchange"}
    names = {(row["name"], row["state"]) for row in exchanges.values()}
    for loc in load_localities():
        assert (f"{loc.name} Exchange", loc.state) in names
    leaf_kinds: dict[str, set[str]] = defaultdict(set)
    for row in data["network"]:
        if row["kind"] in ("node", "cell"):
            leaf_kinds[row["parent_external_id"]].add(row["kind"])
    assert all(leaf_kinds[exchange_id] == {"node", "cell"} for exchange_id in exchanges)


@pytest.mark.slow
def test_leaves_carry_a_few_hundred_services_each(tmp_path: Path) -> None:
    generate(customers=100_000, out_dir=tmp_path, seed=2)
    network = read_csv(tmp_path / "network.csv")
    load = Counter(row["element_external_id"] for row in read_csv(tmp_path / "services.csv"))
    siblings = Counter((row["parent_external_id"], row["kind"]) for row in network)
    shared = [
        load[row["external_id"]]
        for row in network
        if row["kind"] in ("node", "cell") and siblings[row["parent_external_id"], row["kind"]] > 1
    ]
    assert len(shared) > 50
    assert 250 <= mean(shared) <= 400
    assert max(load.values()) < 700


# Customers


def test_customer_proportions(data: dict[str, Rows]) -> None:
    customers = data["customers"]
    segments = Counter(row["segment"] for row in customers)
    assert abs(segments["consumer"] / N - 0.90) < 0.01
    assert abs(segments["small_business"] / N - 0.08) < 0.008
    assert abs((segments["enterprise"] + segments["government"]) / N - 0.02) < 0.004
    assert segments["enterprise"] and segments["government"]
    assert abs(share(customers, lambda r: r["language"] == "en") - 0.80) < 0.015
    assert {row["language"] for row in customers} == {
        "en",
        "zh",
        "vi",
        "ar",
        "el",
        "it",
        "hi",
        "ko",
    }
    assert abs(share(customers, lambda r: r["email"] == "") - 0.08) < 0.008
    assert abs(share(customers, lambda r: r["mobile"] == "") - 0.05) < 0.006
    assert abs(share(customers, lambda r: r["phone"] != "") - 0.25) < 0.015
    assert abs(share(customers, lambda r: r["push_token"] != "") - 0.40) < 0.015
    assert abs(share(customers, lambda r: r["consent_sms"] == "false") - 0.03) < 0.006
    assert abs(share(customers, lambda r: r["consent_email"] == "false") - 0.05) < 0.007
    assert abs(share(customers, lambda r: r["quiet_hours_start"] != "") - 0.60) < 0.015
    assert abs(share(customers, lambda r: r["priority_assistance"] == "true") - 0.005) < 0.002
    assert abs(share(customers, lambda r: r["accessibility_needs"] != "") - 0.03) < 0.005
    assert abs(share(customers, lambda r: r["is_former"] == "true") - 0.03) < 0.005
    former = [row for row in customers if row["is_former"] == "true"]
    assert 0.35 < share(former, lambda r: r["payment_reference"] != "") < 0.65
    assert all(row["payment_reference"] == "" for row in customers if row["is_former"] == "false")


def test_customer_field_formats(data: dict[str, Rows]) -> None:
    customers = data["customers"]
    needs = {"large_print", "tty", "screen_reader", "hearing", "interpreter"}
    for number, row in enumerate(customers, start=1):
        assert row["external_id"] == f"C{number:08d}"
        assert row["name"] and row["preferred_name"]
        assert re.fullmatch(r"[A-Z][A-Za-z-]*", row["preferred_name"])
        if row["email"]:
            assert re.fullmatch(r"[a-z0-9.]+@example\.(com|net|org)", row["email"])
        if row["mobile"]:
            assert re.fullmatch(r"\+614\d{8}", row["mobile"])
        if row["phone"]:
            assert re.fullmatch(r"\+61[2378]\d{8}", row["phone"])
            assert row["phone"][3] == LANDLINE_AREA.get(row["team_external_id"].split("-")[1], "8")
        if row["push_token"]:
            assert re.fullmatch(r"[0-9a-f]{64}", row["push_token"])
        channels = row["channel_order"].split(";")
        assert sorted(channels) == ["email", "push", "sms", "voice"]
        for column in ("consent_email", "consent_sms", "consent_push", "consent_voice"):
            assert row[column] in ("true", "false")
        assert (row["quiet_hours_start"], row["quiet_hours_end"]) in (("21:00", "08:00"), ("", ""))
        if row["accessibility_needs"]:
            assert set(row["accessibility_needs"].split(";")) <= needs
        if row["payment_reference"]:
            assert row["payment_reference"].startswith("PAY-")


def test_contacts_are_unique(data: dict[str, Rows]) -> None:
    for column in ("email", "mobile", "phone"):
        values = [row[column] for row in data["customers"] if row[column]]
        assert len(values) == len(set(values)), column


def test_customers_belong_to_their_state_and_segment_team(data: dict[str, Rows]) -> None:
    teams = {row["external_id"] for row in data["teams"]}
    groups = {"consumer": "CONSUMER", "small_business": "BUSINESS"}
    home_state = {}
    for row in data["services"]:
        home_state.setdefault(row["customer_external_id"], row["state"])
    for row in data["customers"]:
        assert row["team_external_id"] in teams
        _, state, group = row["team_external_id"].split("-")
        assert group == groups.get(row["segment"], "ENTERPRISE")
        assert state == home_state[row["external_id"]]
        assert row["time_zone"] == TIME_ZONES[state]


def test_business_names(data: dict[str, Rows]) -> None:
    small = [row for row in data["customers"] if row["segment"] == "small_business"]
    assert 0.5 < share(small, lambda r: r["name"].endswith(" Pty Ltd")) < 0.9
    consumers = [row for row in data["customers"] if row["segment"] == "consumer"]
    assert all(row["name"].startswith(row["preferred_name"] + " ") for row in consumers)


def test_most_customers_live_in_major_cities(data: dict[str, Rows]) -> None:
    homes: dict[str, str] = {}
    for row in data["services"]:
        homes.setdefault(row["customer_external_id"], row["remoteness"])
    remoteness = Counter(homes.values())
    assert 0.65 < remoteness["major_city"] / N < 0.8
    assert 0.005 < remoteness["remote"] / N < 0.05


# Services


def test_services_per_customer(data: dict[str, Rows]) -> None:
    per_customer = Counter(row["customer_external_id"] for row in data["services"])
    assert len(per_customer) == N
    assert set(per_customer.values()) <= {1, 2, 3, 4}
    assert abs(len(data["services"]) / N - 1.3) < 0.03


def test_service_references_exist(data: dict[str, Rows], by_id: Index) -> None:
    for row in data["services"]:
        assert row["customer_external_id"] in by_id["customers"]
        assert row["product_code"] in by_id["products"]
        assert row["element_external_id"] in by_id["network"]


def test_services_attach_to_a_leaf_of_their_locality(data: dict[str, Rows], by_id: Index) -> None:
    network, products = by_id["network"], by_id["products"]
    localities = {(loc.name, loc.state): loc for loc in load_localities()}
    for row in data["services"]:
        element = network[row["element_external_id"]]
        mobile = products[row["product_code"]]["kind"] == "mobile"
        assert element["kind"] == ("cell" if mobile else "node")
        exchange = network[element["parent_external_id"]]
        assert exchange["kind"] == "exchange"
        assert exchange["name"] == f"{row['locality']} Exchange"
        assert exchange["state"] == row["state"]
        loc = localities[row["locality"], row["state"]]
        assert (float(exchange["latitude"]), float(exchange["longitude"])) == (
            loc.latitude,
            loc.longitude,
        )


def test_service_fields(data: dict[str, Rows], by_id: Index) -> None:
    customers, products = by_id["customers"], by_id["products"]
    localities = {(loc.name, loc.state): loc for loc in load_localities()}
    discounted = 0
    for number, row in enumerate(data["services"], start=1):
        assert row["external_id"] == f"S{number:09d}"
        customer = customers[row["customer_external_id"]]
        assert row["product_code"] in SEGMENT_PRODUCTS[customer["segment"]]
        assert row["sla_tier"] == SLA_TIERS[customer["segment"]]
        assert row["is_active"] == ("false" if customer["is_former"] == "true" else "true")
        assert re.fullmatch(r"\d+\.\d\d", row["monthly_charge"])
        price = float(products[row["product_code"]]["monthly_charge"])
        charge = float(row["monthly_charge"])
        assert 0.8 * price - 0.005 <= charge <= price
        discounted += charge < price
        assert re.fullmatch(r"\d+ [A-Z][A-Za-z ]+ [A-Z][a-z]+", row["address"])
        loc = localities[row["locality"], row["state"]]
        assert (row["postcode"], row["remoteness"]) == (loc.postcode, loc.remoteness)
        for column, centre in (("latitude", loc.latitude), ("longitude", loc.longitude)):
            assert re.fullmatch(r"-?\d+\.\d{5}", row[column])
            assert abs(float(row[column]) - centre) <= 0.05
    assert abs(discounted / len(data["services"]) - 0.10) < 0.01


def test_services_stay_at_home_except_some_business_sites(data: dict[str, Rows]) -> None:
    localities: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in data["services"]:
        localities[row["customer_external_id"]].add((row["locality"], row["state"]))
    segments = {row["external_id"]: row["segment"] for row in data["customers"]}
    multi = [customer for customer, places in localities.items() if len(places) > 1]
    assert multi
    assert all(segments[customer] != "consumer" for customer in multi)
    assert all(len(localities[customer]) <= 2 for customer in multi)


# Management command


def test_command_writes_files_and_reports(tmp_path: Path) -> None:
    stdout = io.StringIO()
    call_command("generate", customers=25, out=tmp_path, seed=4, fmt="jsonl", stdout=stdout)
    output = stdout.getvalue()
    assert "customers: 25 rows" in output
    assert "done in" in output
    assert len(read_jsonl(tmp_path / "customers.jsonl")) == 25


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "at least 1"),
        (["--customers", "5", "--format", "xml"], "invalid choice"),
    ],
)
def test_command_rejects_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("generate", *args, "--out", str(tmp_path))


def test_command_rejects_a_file_as_output(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(CommandError, match="not a directory"):
        call_command("generate", "--customers", "5", "--out", str(target))
