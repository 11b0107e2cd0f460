"""Shared fixtures: small data files, and the `amends` CLI run against the test database."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def write_csv(
    path: Path, rows: Iterable[Mapping[str, object]], *, bom: bool = False, crlf: bool = False
) -> Path:
    rows = list(rows)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        fieldnames = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(
            handle, fieldnames=fieldnames, restval="", lineterminator="\r\n" if crlf else "\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    return path


def child_database_url() -> str:
    """A DATABASE_URL naming the database the tests run on, for child processes."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user, host, port = settings["USER"], settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


def amends_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(extra)
    return env


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `amends ARGS…` in a child process against the test database (use transactional_db)."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "amends", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env=amends_env(DATABASE_URL=child_database_url()),
        )

    return run


@pytest.fixture
def small_network(tmp_path: Path) -> Path:
    """A tiny, hand-written operator: 2 teams, 2 products, a 4-level tree, 3 customers."""
    write_csv(
        tmp_path / "teams.csv",
        [
            {"external_id": "TEAM-A", "name": "Team A", "email": "a@care.example.net"},
            {"external_id": "TEAM-B", "name": "Team B", "email": ""},
        ],
    )
    write_csv(
        tmp_path / "products.csv",
        [
            {
                "code": "NBN-50",
                "name": "Home Internet 50",
                "kind": "fixed_broadband",
                "monthly_charge": "89.00",
            },
            {"code": "MOB", "name": "Mobile", "kind": "mobile", "monthly_charge": "35"},
        ],
    )
    element = {"state": "NSW", "latitude": "", "longitude": ""}
    write_csv(
        tmp_path / "network.csv",
        [
            {
                "external_id": "CORE",
                "name": "Core",
                "kind": "core",
                "parent_external_id": "",
                **element,
                "state": "",
            },
            {
                "external_id": "R1",
                "name": "Sydney",
                "kind": "region",
                "parent_external_id": "CORE",
                **element,
            },
            {
                "external_id": "X1",
                "name": "Exchange 1",
                "kind": "exchange",
                "parent_external_id": "R1",
                **element,
            },
            {
                "external_id": "X2",
                "name": "Exchange 2",
                "kind": "exchange",
                "parent_external_id": "R1",
                **element,
            },
            {
                "external_id": "N1",
                "name": "Node 1",
                "kind": "node",
                "parent_external_id": "X1",
                **element,
            },
            {
                "external_id": "N2",
                "name": "Node 2",
                "kind": "node",
                "parent_external_id": "X2",
                **element,
            },
        ],
    )
    write_csv(
        tmp_path / "customers.csv",
        [
            {
                "external_id": f"C{i}",
                "name": f"Customer {i}",
                "segment": "consumer",
                "mobile": f"+6141234567{i}",
                "email": f"c{i}@example.com",
                "team_external_id": "TEAM-A",
            }
            for i in range(3)
        ],
    )
    write_csv(
        tmp_path / "services.csv",
        [
            {
                "external_id": f"S{i}",
                "customer_external_id": f"C{i % 3}",
                "product_code": "NBN-50",
                "monthly_charge": "89.00",
                "postcode": "2000",
                "locality": "Sydney",
                "state": "NSW",
                "element_external_id": "N1" if i % 2 else "N2",
            }
            for i in range(4)
        ],
    )
    return tmp_path
