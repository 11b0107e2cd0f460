"""amends remedy policy …, create, calculate, diff: a real child process against the test
database, from presets to the difference between two calculations, and bad input refused
with the field named and nothing written."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from amends.core.roles import Role
from amends.outages.models import Impact
from amends.remedy.models import Calculation, PolicyVersion
from tests.factories import build_operator
from tests.remedy.conftest import T0, outage_row, staff, window

Cli = Callable[..., subprocess.CompletedProcess[str]]
AS_OF = (T0 + timedelta(days=2)).isoformat()


@pytest.fixture
def setup(transactional_db: None) -> str:
    """The operator, an analyst and a 14 h 05 min outage of every service; its reference."""
    op = build_operator()
    staff("ana", Role.REMEDIATION_ANALYST)
    outage = outage_row()
    for service in op.services.values():
        window(outage, service, T0, T0 + timedelta(hours=14, minutes=5))
    return outage.reference


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_presets_policy_program_calculate_diff(cli: Cli, setup: str) -> None:
    presets = ok(cli("remedy", "policy", "presets"))
    assert "ofgem_gss: Ofgem guaranteed standards" in presets
    tiers = json.loads(ok(cli("remedy", "policy", "presets", "vic_gsl")))["basis"]["tiers"]
    assert [t["amount_cents"] for t in tiers] == [13000, 19000, 38000]

    saved = ok(cli("remedy", "policy", "create", "Credit", "--preset", "pro_rata", "--as", "ana"))
    assert "policy 'Credit' v1 saved" in saved
    assert "Credit: v1 by ana, from preset pro_rata" in ok(cli("remedy", "policy", "list"))
    shown = ok(cli("remedy", "policy", "show", "Credit:1"))
    assert json.loads(shown.split("\n", 1)[1])["basis"]["kind"] == "pro_rata"

    opened = ok(
        cli(
            "remedy", "create", "--name", "Routing fault", "--outage", setup,
            "--policy", "Credit", "--as", "ana",
        )
    )  # fmt: skip
    reference = opened.split(":")[0]
    assert reference.startswith("REM-")
    first = ok(cli("remedy", "calculate", reference, "--as", "ana", "--as-of", AS_OF))
    assert f"{reference} v1: 6 of 6 customers eligible, $9.95 in total" in first

    Impact.objects.filter(service__external_id="S4").update(window_end=T0 + timedelta(hours=20))
    second = ok(cli("remedy", "calculate", reference, "--as", "ana", "--as-of", AS_OF))
    assert f"{reference} v2:" in second
    diff = ok(cli("remedy", "diff", reference, "1", "2"))
    # C3: 8,900 × 72,000 s ÷ 2,628,000 = 243.84 → $2.44, was $1.72.
    assert "0 added, 0 removed, 1 changed, 5 unchanged; total +$0.72" in diff
    assert "C3" in diff and "$1.72 → $2.44" in diff


def test_bad_input_is_refused_with_the_field_named(cli: Cli, setup: str, tmp_path: Path) -> None:
    bad = tmp_path / "policy.json"
    bad.write_text(json.dumps({"basis": {"kind": "fixed", "amount_cents": "ten"}}))
    refused = cli("remedy", "policy", "create", "Bad", "--file", str(bad), "--as", "ana")
    assert refused.returncode == 1
    assert "basis.amount_cents: Input should be a valid integer" in refused.stderr
    assert "Traceback" not in refused.stderr
    bad.write_text("{not json")
    assert (
        "is not JSON"
        in cli("remedy", "policy", "create", "Bad", "--file", str(bad), "--as", "ana").stderr
    )
    assert not PolicyVersion.objects.exists()

    unknown = cli(
        "remedy", "create", "--name", "X", "--outage", "OUT-1999-0001",
        "--policy", "Nope", "--as", "ana",
    )  # fmt: skip
    assert unknown.returncode == 1 and "outage: no outage 'OUT-1999-0001'" in unknown.stderr
    stranger = cli("remedy", "calculate", "REM-2026-0001", "--as", "nobody")
    assert stranger.returncode == 1 and "no program REM-2026-0001" in stranger.stderr
    assert not Calculation.objects.exists()
