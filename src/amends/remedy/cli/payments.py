"""amends remedy review|submit|approve|reject|export|confirm|requeue|residual|notify|apologise|
close: reviewing and paying a program from the shell, as the staff account named by ``--as``
(its role decides what it may do; approval needs a second person)."""

from __future__ import annotations

from argparse import ArgumentParser, _SubParsersAction
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from amends.comms.models import Notice
from amends.core.errors import AmendsError
from amends.core.money import format_money
from amends.remedy.models import BatchFormat, PayoutMethod, ResidualDestination
from amends.remedy.services import approval, confirmations, credit_notices, payments
from amends.remedy.services import review as reviews

Options = dict[str, Any]


def add_commands(sub: _SubParsersAction[Any]) -> None:
    """Register this area's subcommands; each sets ``handler=fn(command, options)``."""
    _program_command(sub, "review", "totals, distribution, outliers, exclusions", _review)
    _program_command(sub, "submit", "ask for approval of the latest calculation", _submit, True)
    approve = _program_command(sub, "approve", "a second person's approval", _approve, True)
    approve.add_argument("--version", type=int, help="the calculation version you reviewed")
    reject = _program_command(sub, "reject", "send back to draft with reasons", _reject, True)
    reject.add_argument("--reason", required=True, help="why, for the analyst")
    export = _program_command(sub, "export", "write a billing batch file", _export, True)
    export.add_argument("--method", required=True, choices=list(payments.EXPORTABLE))
    export.add_argument("--format", default=BatchFormat.CSV, choices=BatchFormat.values)
    export.add_argument("--out", required=True, type=Path, help="file to write")
    confirm = _program_command(sub, "confirm", "import billing's confirmations", _confirm, True)
    confirm.add_argument("file", type=Path, help="CSV or JSON Lines from billing")
    requeue = _program_command(sub, "requeue", "queue rejected payouts again", _requeue, True)
    requeue.add_argument("--payout", type=int, action="append", help="payout id (default all)")
    residual = _program_command(
        sub, "residual", "move unpaid amounts to the residual ledger", _residual, True
    )
    residual.add_argument(
        "--payout", type=int, action="append", help="payout id (default: all awaiting details)"
    )
    residual.add_argument("--efforts", required=True, help="what was tried, and when")
    residual.add_argument("--kind", required=True, choices=ResidualDestination.values)
    residual.add_argument("--destination", required=True, help="charity or holding account")
    notify = _program_command(
        sub, "notify", "tell paid customers their credit or refund", _notify, True
    )
    notify.add_argument("--message", default="", help="words of your own in every message")
    notify.add_argument(
        "--retry-unreached",
        action="store_true",
        help="also tell again those an earlier notice did not reach (every channel failed or "
        "no way to reach them), once their contact details are fixed",
    )
    apologise = _program_command(sub, "apologise", "send the apology notice", _apologise, True)
    apologise.add_argument("--message", default="", help="words of your own in every message")
    _program_command(sub, "close", "close a program whose payouts are all settled", _close, True)


def _program_command(
    sub: _SubParsersAction[Any], name: str, text: str, handler: Any, acting: bool = False
) -> ArgumentParser:
    parser: ArgumentParser = sub.add_parser(name, help=text)
    parser.add_argument("reference", help="program reference, e.g. REM-2026-0001")
    if acting:
        parser.add_argument(
            "--as", dest="as_user", metavar="USER", required=True, help="the staff account acting"
        )
    parser.set_defaults(handler=handler)
    return parser


def _user(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True, is_staff=True).first()
    if user is None:
        raise AmendsError(f"no active staff account {username!r}", field="as")
    return user


def _acting(o: Options) -> dict[str, Any]:
    return {"actor": _user(o["as_user"]), "program": reviews.program_by_reference(o["reference"])}


def _say(command: BaseCommand, text: str) -> None:
    command.stdout.write(text)


def _review(command: BaseCommand, o: Options) -> None:
    program = reviews.program_by_reference(o["reference"])
    calculation = approval.latest_calculation(program)
    if calculation is None:
        raise AmendsError(f"program {program.reference} has not been calculated", field="status")
    for line in _review_lines(reviews.review(calculation)):
        _say(command, line)


def _groups(title: str, groups: list[reviews.Group], currency: str) -> list[str]:
    lines = [f"{title}:"]
    lines += [
        f"  {g.label:<40} {g.customers:>9,} customers {g.eligible:>9,} eligible "
        f"{format_money(g.total_cents, currency):>14}"
        for g in groups
    ]
    return lines


def _review_lines(found: reviews.Review) -> list[str]:
    t, calc = found.totals, found.calculation
    currency = calc.policy_version.currency

    def money(cents: int) -> str:
        return format_money(cents, currency)

    lines = [
        f"{found.program.reference} {found.program.name}: calculation v{calc.version} by "
        f"{calc.calculated_by}, as of {calc.as_of:%Y-%m-%d %H:%M} UTC",
        f"affected {t.affected:,}, eligible {t.eligible:,}, excluded {t.excluded:,}; "
        f"total {money(t.total_cents)}",
        f"mean {money(t.mean_cents)}, median {money(t.median_cents)}, "
        f"95th percentile {money(t.p95_cents)}, largest {money(t.max_cents)}",
        "made of: "
        + "; ".join(
            f"{label} {money(cents)}"
            for _, label, cents in reviews.component_amounts(found.components, total=False)
        ),
    ]
    lines += _groups("by segment", found.by_segment, currency)
    lines += _groups(
        "by product (a customer counts under each of their products)", found.by_product, currency
    )
    lines += _groups("by state", found.by_state, currency)
    lines.append("amounts:")
    lines += [f"  {b.label:<28} {b.customers:>9,}" for b in found.histogram]
    lines.append("largest:")
    lines += [
        f"  {e.customer.external_id:<16} {money(e.total_cents):>12}  {e.explanation}"
        for e in found.largest
    ]
    lines.append("excluded:")
    lines += [f"  {g.label:<50} {g.customers:>9,}" for g in found.exclusions]
    lines += [
        f"affected with no entitlement: {m.customers:,} — {m.reason} (e.g. {', '.join(m.examples)})"
        for m in found.missing
    ]
    return lines


def _submit(command: BaseCommand, o: Options) -> None:
    program = approval.program_submit(**_acting(o))
    _say(command, f"{program.reference}: {program.get_status_display().lower()}")


def _approve(command: BaseCommand, o: Options) -> None:
    program = approval.program_approve(**_acting(o), version=o["version"])
    calculation = program.approved_calculation
    assert calculation is not None
    total = format_money(calculation.total_cents, calculation.policy_version.currency)
    _say(
        command,
        f"{program.reference}: approved calculation v{calculation.version} "
        f"({calculation.eligible_customers:,} customers, {total})",
    )


def _reject(command: BaseCommand, o: Options) -> None:
    program = approval.program_reject(**_acting(o), reasons=o["reason"])
    _say(command, f"{program.reference}: back to {program.get_status_display().lower()}")


def _export(command: BaseCommand, o: Options) -> None:
    """Written beside ``--out`` and renamed into place once the batch is made: billing never
    finds a partial file, nor one whose batch was rolled back."""
    out: Path = o["out"]
    if out.exists() and not out.is_file():
        # The rename would put a regular file in its place: never a device such as /dev/null.
        raise AmendsError(
            f"{out} is not a regular file: give the path of the file to write", field="out"
        )
    partial = out.with_name(f".{out.name}.partial")
    try:
        with partial.open("wb") as handle:
            exported = payments.batch_export(
                **_acting(o), method=o["method"], file_format=o["format"], handle=handle
            )
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    batch = exported.batch
    again = " (already exported and not yet confirmed: the same file again)"
    total = format_money(batch.total_cents, batch.program.policy_version.currency)
    _say(
        command,
        f"{batch.batch_id}: {batch.items:,} {PayoutMethod(batch.method).label.lower()}(s), "
        f"{total} → {o['out']}{again if exported.reused else ''}",
    )


def _confirm(command: BaseCommand, o: Options) -> None:
    done = confirmations.confirmations_import(**_acting(o), path=o["file"])
    state = "complete" if done.batch_complete else "some payouts still await billing"
    _say(
        command,
        f"{done.batch.batch_id}: {done.paid:,} paid, {done.rejected:,} rejected, "
        f"{done.unchanged:,} unchanged; batch {state}",
    )


def _requeue(command: BaseCommand, o: Options) -> None:
    count = payments.payouts_requeue(**_acting(o), payout_ids=o["payout"])
    _say(command, f"{count:,} payout(s) queued for the next batch")


def _residual(command: BaseCommand, o: Options) -> None:
    count = payments.residual_record(
        **_acting(o),
        payout_ids=o["payout"],
        efforts=o["efforts"],
        destination_kind=o["kind"],
        destination=o["destination"],
    )
    _say(command, f"{count:,} payout(s) moved to the residual ledger ({o['destination']})")


def _notify(command: BaseCommand, o: Options) -> None:
    sent = credit_notices.credit_notices_send(
        **_acting(o), message=o["message"], retry_unreached=o["retry_unreached"]
    )
    _say_notices(command, sent)


def _apologise(command: BaseCommand, o: Options) -> None:
    _say_notices(command, credit_notices.apology_send(**_acting(o), message=o["message"]))


def _say_notices(command: BaseCommand, notices: list[Notice]) -> None:
    for notice in notices:
        state = notice.get_status_display().lower()
        _say(command, f"notice {notice.pk}: {notice.recipients:,} recipient(s), {state}")


def _close(command: BaseCommand, o: Options) -> None:
    program = payments.program_close(**_acting(o))
    _say(command, f"{program.reference}: closed")
