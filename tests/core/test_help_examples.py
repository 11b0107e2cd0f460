"""Every example in an ``amends`` command's ``--help`` runs as written.

The examples are read from the help text itself (the "examples:" section), so an example added
to a command is tested without touching this file. They run in one database, in the order a
new operator would: generate data, import it, declare and work an outage, notify, remediate.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from amends.comms.models import Notice
from amends.core.commands import help_examples
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.outages.models import Outage

# Commands whose examples others build on run first; any other command's run after them.
ORDER = ["generate", "import", "outage", "notice", "remedy"]


def amends_commands() -> dict[str, str]:
    return {name: app for name, app in get_commands().items() if app.startswith("amends")}


def examples_of(name: str) -> list[str]:
    command = load_command_class(amends_commands()[name], name)
    return help_examples(command.create_parser("amends", name).format_help())


def all_examples() -> list[str]:
    names = sorted(amends_commands(), key=lambda n: (ORDER.index(n) if n in ORDER else 99, n))
    return [example for name in names for example in examples_of(name)]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    for name, role in [("comms", Role.COMMUNICATIONS), ("analyst", Role.REMEDIATION_ANALYST)]:
        staff_user_set(actor="t", username=name, role=role, password="pw-123456-x")
    with override_settings(DATA_DIR=tmp_path / "data"):
        yield tmp_path


@pytest.mark.parametrize("name", ORDER)
def test_each_command_shows_examples(name: str) -> None:
    assert examples_of(name), f"amends {name} --help shows no examples"


def test_the_exclusion_the_help_shows_is_an_example() -> None:
    assert any(" --scope -postcode:" in example for example in examples_of("outage"))


@pytest.mark.django_db
def test_every_help_example_runs_as_written(workdir: Path) -> None:
    examples = all_examples()
    for example in examples:
        # A program's reference carries the year it was opened in (the outage's, its start).
        argv = shlex.split(example.replace("REM-2026-", f"REM-{timezone.now().year}-"))
        assert argv[0] == "amends", example
        try:
            call_command(*argv[1:], stdout=StringIO(), stderr=StringIO())
        except (CommandError, SystemExit) as exc:
            pytest.fail(f"{example}\n  failed: {exc}")
    outage = Outage.objects.get(reference="OUT-2026-0001")
    excluded = outage.scope_items.filter(include=False).values_list("postcode", flat=True)
    assert outage.status == "resolved" and sorted(excluded) == ["2600", "2601"]
    assert outage.affected_services > 0 and Notice.objects.filter(outage=outage).count() == 2
    assert (workdir / "report.csv").read_text().count("\n") > 1  # a header and the customers
