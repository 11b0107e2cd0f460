"""amends remedy policy list|show|presets|create|revise, create, calculate, diff: policies,
programs and calculations from the shell. Writes act as the staff account named by ``--as``
(the remediation analyst or admin role)."""

from __future__ import annotations

import json
from argparse import ArgumentParser, _SubParsersAction
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.utils import timezone

from amends.core.errors import AmendsError, NotFound
from amends.core.money import format_money
from amends.outages import queries as outage_queries
from amends.remedy.models import Calculation, Policy, Program
from amends.remedy.policy import PRESET_SOURCES, PRESETS
from amends.remedy.services import programs
from amends.remedy.services.calculation import calculate, calculation_diff
from amends.remedy.services.review import program_by_reference

Options = dict[str, Any]


def add_commands(sub: _SubParsersAction[Any]) -> None:
    """Register this area's subcommands; each sets ``handler=fn(command, options)``."""
    _policy_commands(sub)
    create = sub.add_parser("create", help="open a program for outages under a policy")
    create.add_argument("--name", required=True)
    create.add_argument("--outage", required=True, nargs="+", action="extend", help="reference(s)")
    create.add_argument("--policy", required=True, metavar="NAME[:VERSION]", help="latest if bare")
    _acting(create, _create)
    calc = sub.add_parser("calculate", help="calculate a program: a new version")
    calc.add_argument("reference", help="program reference, e.g. REM-2026-0001")
    calc.add_argument("--as-of", type=_datetime, help="ISO time open windows count to (now)")
    _acting(calc, _calculate)
    diff = sub.add_parser("diff", help="what changed between two calculation versions")
    diff.add_argument("reference")
    diff.add_argument("old", type=int, metavar="V1")
    diff.add_argument("new", type=int, metavar="V2")
    diff.add_argument("--limit", type=int, default=20, help="largest changes to list")
    diff.set_defaults(handler=_diff)


def _policy_commands(sub: _SubParsersAction[Any]) -> None:
    policy = sub.add_parser("policy", help="remediation policies")
    actions = policy.add_subparsers(dest="policy_action", required=True)
    actions.add_parser("list", help="policies and their latest versions").set_defaults(
        handler=_policy_list
    )
    show = actions.add_parser("show", help="a policy version's document (JSON)")
    show.add_argument("policy", metavar="NAME[:VERSION]")
    show.set_defaults(handler=_policy_show)
    presets = actions.add_parser("presets", help="the shipped presets and their sources")
    presets.add_argument("name", nargs="?", help="print this preset's document")
    presets.set_defaults(handler=_policy_presets)
    create = actions.add_parser("create", help="a new policy from a preset or a JSON file")
    create.add_argument("name")
    source = create.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", choices=sorted(PRESETS))
    source.add_argument("--file", type=Path, help="a JSON policy document")
    _acting(create, _policy_create)
    revise = actions.add_parser("revise", help="save a JSON file as the policy's next version")
    revise.add_argument("name")
    revise.add_argument("--file", type=Path, required=True)
    _acting(revise, _policy_revise)


def _acting(parser: ArgumentParser, handler: Any) -> None:
    parser.add_argument(
        "--as", dest="as_user", metavar="USER", required=True, help="the staff account acting"
    )
    parser.set_defaults(handler=handler)


def _datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _user(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True, is_staff=True).first()
    if user is None:
        raise AmendsError(f"no active staff account {username!r}", field="as")
    return user


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AmendsError(f"cannot read {path}: {exc.strerror}", field="file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise AmendsError(f"{path} is not JSON: {exc}", field="file") from None


def _say(command: BaseCommand, text: str) -> None:
    command.stdout.write(text)


# --- policies ---------------------------------------------------------------------------------


def _policy_list(command: BaseCommand, o: Options) -> None:
    for policy in Policy.objects.order_by("name").prefetch_related("versions"):
        latest = max(policy.versions.all(), key=lambda v: v.version)
        origin = f", from preset {latest.preset}" if latest.preset else ""
        _say(command, f"{policy.name}: v{latest.version} by {latest.author}{origin}")


def _policy_show(command: BaseCommand, o: Options) -> None:
    version = programs.policy_version_by_spec(o["policy"])
    _say(command, f"# {version}, by {version.author} on {version.created_at:%Y-%m-%d %H:%M}")
    _say(command, json.dumps(version.document, indent=2, ensure_ascii=False))


def _policy_presets(command: BaseCommand, o: Options) -> None:
    if o["name"]:
        if o["name"] not in PRESETS:
            raise NotFound(f"no preset {o['name']!r}", field="name")
        _say(command, json.dumps(PRESETS[o["name"]].as_json(), indent=2, ensure_ascii=False))
        return
    for name, source in PRESET_SOURCES.items():
        _say(command, f"{name}: {' '.join(source.split())}")


def _policy_create(command: BaseCommand, o: Options) -> None:
    document = _read_json(o["file"]) if o["file"] else None
    version = programs.policy_create(_user(o["as_user"]), o["name"], document, o["preset"] or "")
    _say(command, f"policy {version.policy.name!r} v{version.version} saved")


def _policy_revise(command: BaseCommand, o: Options) -> None:
    policy = Policy.objects.filter(name=o["name"]).first()
    if policy is None:
        raise NotFound(f"no policy named {o['name']!r}", field="name")
    version = programs.policy_revise(_user(o["as_user"]), policy, _read_json(o["file"]))
    _say(command, f"policy {policy.name!r} v{version.version} saved")


# --- programs ---------------------------------------------------------------------------------


def _create(command: BaseCommand, o: Options) -> None:
    outages = []
    for reference in o["outage"]:
        try:
            outages.append(outage_queries.outage_by_reference(reference))
        except NotFound as exc:
            raise NotFound(exc.message, field="outage") from None
    version = programs.policy_version_by_spec(o["policy"])
    program = programs.program_create(_user(o["as_user"]), o["name"], outages, version)
    _say(command, f"{program.reference}: {program.name} ({len(outages)} outage(s), {version})")


def _calculate(command: BaseCommand, o: Options) -> None:
    program = program_by_reference(o["reference"])
    calculation = calculate(_user(o["as_user"]), program, o["as_of"])
    _say(command, _calculation_line(program, calculation))


def _calculation_line(program: Program, calculation: Calculation) -> str:
    currency = calculation.policy_version.currency
    return (
        f"{program.reference} v{calculation.version}: {calculation.eligible_customers:,} of "
        f"{calculation.affected_customers:,} customers eligible, "
        f"{format_money(calculation.total_cents, currency)} in total, as of "
        f"{calculation.as_of:%Y-%m-%d %H:%M} UTC ({calculation.duration_ms / 1000:.1f} s; "
        f"inputs {calculation.inputs_digest[:12]})"
    )


def _diff(command: BaseCommand, o: Options) -> None:
    program = program_by_reference(o["reference"])
    old, new = (programs.calculation_by_version(program, o[key]) for key in ("old", "new"))
    diff = calculation_diff(old, new, limit=o["limit"])
    sign = "+" if diff.total_change_cents >= 0 else "-"
    currency = new.policy_version.currency
    _say(
        command,
        f"{program.reference} v{old.version} → v{new.version}: {diff.added:,} added, "
        f"{diff.removed:,} removed, {diff.changed:,} changed, {diff.unchanged:,} unchanged; "
        f"total {sign}{format_money(abs(diff.total_change_cents), currency)}",
    )
    if old.inputs_digest == new.inputs_digest:
        _say(command, "inputs unchanged")
    for change in diff.largest:
        before = "—" if change.old_cents is None else format_money(change.old_cents, currency)
        after = "—" if change.new_cents is None else format_money(change.new_cents, currency)
        _say(command, f"  {change.external_id:<16} {before:>12} → {after:<12} {change.name}")
