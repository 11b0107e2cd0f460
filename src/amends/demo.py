"""The demo: the story of one outage, told on the embedded database.

Each capability of Amends adds its chapter here, so `amends demo` always shows the whole
product end to end. Chapters so far: the operator's data (generate → import) and its staff.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.generator import generate
from amends.network.importer import IMPORT_ORDER, ImportResult, run_import

DEMO_USERS = {
    "viewer": Role.VIEWER,
    "agent": Role.AGENT,
    "comms": Role.COMMUNICATIONS,
    "commander": Role.COMMANDER,
    "analyst": Role.REMEDIATION_ANALYST,
    "approver": Role.APPROVER,
    "admin": Role.ADMIN,
}

Say = Callable[[str], None]


@dataclass
class DemoResult:
    data_dir: Path
    imports: list[ImportResult]
    credentials: dict[str, tuple[str, str]]  # username -> (role, password)


def run_demo(*, customers: int, seed: int, say: Say) -> DemoResult:
    data_dir = Path(settings.DATA_DIR) / "demo"
    say(f"1. Generating an operator with {customers:,} customers into {data_dir} …")
    counts = generate(customers=customers, out_dir=data_dir, seed=seed)
    say("   " + ", ".join(f"{n:,} {kind}" for kind, n in counts.items()))

    say("2. Importing it (validated, all-or-nothing, upsert by external id) …")
    imports = [run_import(kind, data_dir / f"{kind}.csv", actor="demo") for kind in IMPORT_ORDER]
    for result in imports:
        say(
            f"   {result.kind:<9} {result.rows:>9,} rows: {result.created:,} created, "
            f"{result.updated:,} updated, {result.unchanged:,} unchanged ({result.seconds:.1f} s)"
        )

    say("3. Creating one staff account per role …")
    credentials = {}
    for username, role in DEMO_USERS.items():
        password = secrets.token_urlsafe(9)
        staff_user_set(actor="demo", username=username, role=role, password=password)
        credentials[username] = (role, password)
    return DemoResult(data_dir, imports, credentials)
