"""`amends outage …` from the shell: the same services, JSON output, clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from subprocess import CompletedProcess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from amends.outages.management.commands.outage import parse_scope
from amends.outages.models import Outage
from tests.factories import build_operator


def run(*args: str) -> str:
    out = StringIO()
    call_command("outage", *args, stdout=out)
    return out.getvalue()


def test_parse_scope_forms() -> None:
    spec = parse_scope("-locality:Wagga Wagga/NSW+MOB")
    assert (spec.include, spec.kind, spec.locality, spec.state, spec.product) == (
        False,
        "locality",
        "Wagga Wagga",
        "NSW",
        "MOB",
    )
    assert parse_scope("services:S1;S2").services == ["S1", "S2"]
    assert parse_scope("element:X1").element == "X1"


@pytest.mark.django_db
def test_declare_show_restore_resolve_in_json() -> None:
    build_operator()
    declared = json.loads(
        run(
            "declare",
            "--title",
            "Exchange fault",
            "--scope",
            "element:X1",
            "--scope",
            "postcode:2650+MOB",
            "--json",
        )
    )
    reference = declared["reference"]
    assert declared["impact"]["newly_affected"] == 4
    assert declared["counts"]["by_state"] == {"NSW": 4}
    first_item = declared["scope"][0]["id"]
    restored = json.loads(run("restore", reference, "--scope", str(first_item), "--json"))
    assert restored["impact"]["no_longer_affected"] == 3
    assert restored["counts"]["still_affected_services"] == 1
    with pytest.raises(CommandError, match="resolution_summary: resolving needs a resolution"):
        run("resolve", reference)  # what happened, in the past tense, is asked for
    assert Outage.objects.get(reference=reference).status != "resolved"
    summary = "A card failed in exchange X1; we replaced it and service came back."
    resolved = json.loads(run("resolve", reference, "--summary", summary, "--json"))
    assert resolved["status"] == "resolved" and resolved["counts"]["still_affected_services"] == 0
    assert resolved["resolution_summary"] == summary
    assert "Exchange fault" in run("list")


@pytest.mark.django_db
def test_errors_name_the_field() -> None:
    build_operator()
    with pytest.raises(CommandError, match="scope\\[0\\].element: unknown network element"):
        run("declare", "--title", "x", "--scope", "element:NOPE")
    with pytest.raises(CommandError, match="etr: '.*' is not a date"):
        run("declare", "--title", "x", "--scope", "state:NSW", "--etr", "tomorrow")
    with pytest.raises(CommandError, match="reference: no outage"):
        run("show", "OUT-1999-0009")
    assert Outage.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_cli_exit_status_and_message(cli: Callable[..., CompletedProcess[str]]) -> None:
    build_operator()
    result = cli("outage", "declare", "--title", "x", "--scope", "state:Narnia")
    assert result.returncode == 1
    assert "scope[0].state: 'Narnia' is not a state" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("form", [["--scope", "-postcode:2650"], ["--scope=-postcode:2650"]])
def test_exclusions_parse_as_the_help_shows(form: list[str]) -> None:
    """argparse alone refuses a value starting with '-' ("expected one argument")."""
    build_operator()
    out = run("declare", "--title", "Fault", "--scope", "state:NSW", *form)
    outage = Outage.objects.get()
    assert [(i.kind, i.include, i.postcode) for i in outage.scope_items.order_by("id")] == [
        ("state", True, ""),
        ("postcode", False, "2650"),
    ]
    assert "affected: 3 services" in out  # NSW's S1-S5 less Wagga Wagga's S4 and S5
    run("scope", outage.reference, "--add", "-state:VIC")
    assert outage.scope_items.filter(include=False, state="VIC").exists()
