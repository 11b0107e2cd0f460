"""Imports: validated first, applied all-or-nothing, upserted by external id, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection

from amends.core.models import AuditEntry
from amends.network.importer import IMPORT_ORDER, ImportRejected, run_import
from amends.network.models import Customer, NetworkElement, Service
from amends.network.queries import elements_under, services_under
from tests.conftest import write_csv

pytestmark = pytest.mark.django_db


def import_all(directory: Path) -> None:
    for kind in IMPORT_ORDER:
        run_import(kind, directory / f"{kind}.csv", actor="test")


def table_snapshot(table: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608
        return cursor.fetchall()


def rejected(kind: str, path: Path) -> list[str]:
    with pytest.raises(ImportRejected) as info:
        run_import(kind, path, actor="test")
    return info.value.lines()


def test_small_operator_imports_with_tree_paths(small_network: Path) -> None:
    import_all(small_network)
    paths = dict(NetworkElement.objects.values_list("external_id", "path"))
    assert paths["N1"] == "/CORE/R1/X1/N1/"
    exchange = NetworkElement.objects.get(external_id="X1")
    assert set(elements_under(exchange).values_list("external_id", flat=True)) == {"X1", "N1"}
    assert set(services_under(exchange).values_list("external_id", flat=True)) == {"S1", "S3"}
    customer = Customer.objects.get(external_id="C1")
    assert customer.mobile == "+61412345671" and customer.team.external_id == "TEAM-A"
    assert Service.objects.get(external_id="S0").monthly_charge_cents == 8900


def test_reimport_is_unchanged_and_edits_are_counted(small_network: Path) -> None:
    import_all(small_network)
    again = run_import("customers", small_network / "customers.csv", actor="test")
    assert (again.rows, again.created, again.updated, again.unchanged) == (3, 0, 0, 3)
    edited = small_network / "edited.csv"
    write_csv(
        edited,
        [
            {
                "external_id": "C0",
                "name": "Customer 0",
                "segment": "consumer",
                "mobile": "0412 345 670",
                "email": "c0@example.com",
                "team_external_id": "TEAM-A",
            },
            {
                "external_id": "C1",
                "name": "Renamed",
                "segment": "consumer",
                "mobile": "+61412345671",
                "email": "c1@example.com",
                "team_external_id": "TEAM-B",
            },
            {
                "external_id": "C9",
                "name": "New",
                "segment": "government",
                "mobile": "",
                "email": "",
                "team_external_id": "",
            },
        ],
    )
    result = run_import("customers", edited, actor="test")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    renamed = Customer.objects.get(external_id="C1")
    assert renamed.name == "Renamed" and renamed.team.external_id == "TEAM-B"
    assert Customer.objects.get(external_id="C9").team is None


def test_moving_an_element_moves_its_subtree(small_network: Path) -> None:
    import_all(small_network)
    write_csv(
        small_network / "move.csv",
        [
            {
                "external_id": "R2",
                "name": "Newcastle",
                "kind": "region",
                "parent_external_id": "CORE",
            },
            {
                "external_id": "X1",
                "name": "Exchange 1",
                "kind": "exchange",
                "parent_external_id": "R2",
                "state": "NSW",
            },
        ],
    )
    result = run_import("network", small_network / "move.csv", actor="test")
    assert (result.created, result.updated) == (1, 1)
    assert NetworkElement.objects.get(external_id="N1").path == "/CORE/R2/X1/N1/"
    region = NetworkElement.objects.get(external_id="R2")
    assert services_under(region).count() == 2


def test_loop_in_the_tree_is_refused(small_network: Path) -> None:
    import_all(small_network)
    before = table_snapshot("network_networkelement")
    write_csv(
        small_network / "loop.csv",
        [
            {"external_id": "R1", "name": "Sydney", "kind": "region", "parent_external_id": "N1"},
        ],
    )
    lines = rejected("network", small_network / "loop.csv")
    assert any(":2: parent_external_id:" in line and "loop" in line for line in lines)
    assert table_snapshot("network_networkelement") == before


def test_bom_crlf_csv_and_jsonl_give_the_same_rows(small_network: Path) -> None:
    rows = [
        {"external_id": "T1", "name": "Ünïcode Team", "email": ""},
        {"external_id": "T2", "name": "Quoted, with comma", "email": "t2@example.org"},
    ]
    write_csv(small_network / "a.csv", rows, bom=True, crlf=True)
    with (small_network / "b.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(
            json.dumps({**row, "external_id": row["external_id"]}) + "\n" for row in rows
        )
    assert run_import("teams", small_network / "a.csv", actor="test").created == 2
    same = run_import("teams", small_network / "b.jsonl", actor="test")
    assert (same.created, same.unchanged) == (0, 2)


def test_every_problem_is_reported_with_line_and_field(small_network: Path) -> None:
    import_all(small_network)
    before = {t: table_snapshot(t) for t in ("network_service", "core_auditentry")}
    write_csv(
        small_network / "bad.csv",
        [
            {
                "external_id": "S10",
                "customer_external_id": "C0",
                "product_code": "NBN-50",
                "monthly_charge": "1.234",
                "postcode": "200",
                "locality": "Sydney",
                "state": "XX",
                "latitude": "-33.8",
                "longitude": "",
            },
            {
                "external_id": "S11",
                "customer_external_id": "C404",
                "product_code": "NBN-50",
                "monthly_charge": "10",
                "postcode": "2000",
                "locality": "Sydney",
                "state": "NSW",
                "latitude": "",
                "longitude": "",
            },
            {
                "external_id": "S11",
                "customer_external_id": "C0",
                "product_code": "NOPE",
                "monthly_charge": "10",
                "postcode": "2000",
                "locality": "",
                "state": "NSW",
                "latitude": "",
                "longitude": "",
            },
        ],
    )
    lines = rejected("services", small_network / "bad.csv")
    path = small_network / "bad.csv"
    assert lines == [
        f"{path}:2: longitude: is required with latitude/longitude",
        f"{path}:2: monthly_charge: '1.234' has more than two decimal places",
        f"{path}:2: postcode: '200' is not a 4-digit postcode",
        f"{path}:2: state: 'XX' is not one of ACT, NSW, NT, QLD, SA, TAS, VIC, WA",
        f"{path}:3: customer_external_id: unknown customer 'C404'",
        f"{path}:4: locality: is required",
    ]
    assert {t: table_snapshot(t) for t in before} == before


def test_customer_contact_details_are_validated(small_network: Path) -> None:
    import_all(small_network)
    write_csv(
        small_network / "bad.csv",
        [
            {
                "external_id": "C7",
                "name": "X",
                "segment": "consumer",
                "mobile": "+61 2 9876 5432",
                "email": "not-an-email",
                "time_zone": "Mars/Olympus",
                "channel_order": "sms;fax",
            },
            {
                "external_id": "C7",
                "name": "Y",
                "segment": "pensioner",
                "mobile": "12",
                "email": "",
                "time_zone": "",
                "channel_order": "",
            },
        ],
    )
    lines = "\n".join(rejected("customers", small_network / "bad.csv"))
    assert ":2: mobile: '+61 2 9876 5432' is not a mobile number" in lines
    assert ":2: email: 'not-an-email' is not an email address" in lines
    assert ":2: time_zone: 'Mars/Olympus' is not an IANA time zone" in lines
    assert ":2: channel_order: 'fax' is not a channel" in lines
    assert ":3: segment: 'pensioner' is not one of" in lines
    assert ":3: mobile: '12' is not" in lines


def test_header_problems_reject_the_file(tmp_path: Path) -> None:
    path = tmp_path / "teams.csv"
    path.write_text("external_id,nmae\nT1,Team\n")
    lines = rejected("teams", path)
    assert f"{path}:1: nmae: unknown column; expected email, external_id, name" in lines
    assert f"{path}:1: name: required column is missing" in lines
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert rejected("teams", empty) == [f"{empty}:1: file: is empty: expected a header row"]
    assert rejected("teams", tmp_path / "teams.xlsx") == [
        f"{tmp_path / 'teams.xlsx'}:0: file: no such file"
    ]


def test_problem_list_stops_at_fifty_and_counts_the_rest(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "teams.csv", [{"external_id": f"bad id {i}", "name": "T"} for i in range(120)]
    )
    lines = rejected("teams", path)
    assert len(lines) == 51 and lines[-1] == "… and 70 more problem(s)"
    assert lines[0].startswith(f"{path}:2: external_id:")


def test_successful_import_writes_one_audit_entry(small_network: Path) -> None:
    import_all(small_network)
    entry = AuditEntry.objects.filter(action="network.import_services").get()
    assert entry.after["rows"] == 4 and entry.after["created"] == 4
    assert len(entry.after["sha256"]) == 64


def test_dry_run_changes_nothing(small_network: Path) -> None:
    run_import("teams", small_network / "teams.csv", actor="test", dry_run=True)
    assert table_snapshot("network_team") == [] and AuditEntry.objects.count() == 0
