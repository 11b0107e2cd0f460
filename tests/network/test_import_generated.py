"""The generated operator imports cleanly at size, and a single bad row stops the whole file."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from django.db import connection

from amends.network.generator import generate
from amends.network.importer import IMPORT_ORDER, run_import
from amends.network.models import Customer, NetworkElement, Service


def _table_fingerprint() -> tuple[object, ...]:
    """Row counts and a content checksum of the network tables, identical if nothing changed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM network_customer),"
            " (SELECT count(*) FROM network_service),"
            " (SELECT coalesce(sum(monthly_charge_cents), 0) FROM network_service),"
            " (SELECT max(external_id) FROM network_service),"
            " (SELECT count(*) FROM core_auditentry)"
        )
        return tuple(cursor.fetchone())


@pytest.mark.slow
@pytest.mark.django_db
def test_200k_customer_operator_imports_and_reimports_unchanged(tmp_path: Path) -> None:
    counts = generate(customers=200_000, out_dir=tmp_path, seed=7)
    results = {
        kind: run_import(kind, tmp_path / f"{kind}.csv", actor="test") for kind in IMPORT_ORDER
    }
    for kind, result in results.items():
        assert (result.rows, result.created) == (counts[kind], counts[kind]), kind
    assert Customer.objects.count() == 200_000
    assert Service.objects.count() == counts["services"]
    leaves = NetworkElement.objects.filter(kind__in=["node", "cell"])
    assert leaves.filter(path__regex=r"^/[^/]+/[^/]+/[^/]+/[^/]+/$").count() == leaves.count()
    assert not Service.objects.filter(element__isnull=True).exists()
    again = run_import("services", tmp_path / "services.csv", actor="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, counts["services"])


def _with_bad_row(source: Path, target: Path, *, bad_index: int) -> int:
    """Copy ``source`` with the charge of data row ``bad_index`` spoiled; return its line."""
    with source.open(newline="") as src, target.open("w", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        for index, row in enumerate(reader):
            if index == bad_index:
                row[header.index("monthly_charge")] = "12.3.4"
            writer.writerow(row)
    return bad_index + 2


@pytest.mark.django_db(transaction=True)
def test_one_bad_row_in_ten_thousand_changes_nothing(
    tmp_path: Path, cli: Callable[..., CompletedProcess[str]]
) -> None:
    counts = generate(customers=7_700, out_dir=tmp_path, seed=3)
    assert counts["services"] >= 10_000
    for kind in ("teams", "products", "network", "customers"):
        run_import(kind, tmp_path / f"{kind}.csv", actor="test")
    bad = tmp_path / "bad-services.csv"
    line = _with_bad_row(tmp_path / "services.csv", bad, bad_index=6_543)
    before = _table_fingerprint()

    result = cli("import", "services", str(bad))

    assert result.returncode == 1
    assert f"{bad}:{line}: monthly_charge: '12.3.4' is not an amount" in result.stderr
    assert "1 problem(s); nothing was imported" in result.stderr
    assert "Traceback" not in result.stderr
    assert _table_fingerprint() == before

    good = cli("import", "services", str(tmp_path / "services.csv"))
    assert good.returncode == 0, good.stderr
    assert f"{counts['services']:,} created" in good.stdout
