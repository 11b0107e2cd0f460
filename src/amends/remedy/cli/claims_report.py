"""amends remedy report REF [--format html|csv|pdf] [--out FILE], and amends remedy claims
list|show|decide|approve: the program report and the claims queue from the shell. Decisions
act as the staff account named by ``--as``, through the same services as the console."""

from __future__ import annotations

import json
from argparse import ArgumentParser, _SubParsersAction
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from amends.core.errors import AmendsError, NotFound
from amends.core.money import format_cents, parse_amount
from amends.remedy.models import DECIDED_CLAIM_STATUSES, Claim, ClaimStatus, PayoutMethod
from amends.remedy.services import claim_decisions
from amends.remedy.services.report import program_report
from amends.remedy.services.review import program_by_reference
from amends.remedy.views.report import render_report_csv, render_report_html, render_report_pdf

Options = dict[str, Any]


def add_commands(sub: _SubParsersAction[Any]) -> None:
    """Register this area's subcommands; each sets ``handler=fn(command, options)``."""
    report = sub.add_parser("report", help="the program report (HTML, CSV or PDF)")
    report.add_argument("reference", help="program reference, e.g. REM-2026-0001")
    report.add_argument("--format", default="html", choices=["html", "csv", "pdf"])
    report.add_argument(
        "--out", type=Path, help="file to write (default: standard output; PDF needs a file)"
    )
    report.set_defaults(handler=_report)

    claims = sub.add_parser("claims", help="consequential-loss claims")
    actions = claims.add_subparsers(dest="claims_action", required=True)
    listing = actions.add_parser("list", help="claims, oldest first")
    listing.add_argument("--status", choices=["open", *ClaimStatus.values])
    listing.add_argument("--outage", help="outage reference")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    show = actions.add_parser("show", help="one claim with its evidence")
    show.add_argument("reference", help="claim reference, e.g. CLM-2026-00001")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)
    decide = _acting(actions, "decide", "decide a claim with reasons", _decide)
    decide.add_argument(
        "--outcome", required=True, choices=[o.value for o in claim_decisions.Outcome]
    )
    decide.add_argument("--reasons", required=True, help="sent to the claimant")
    decide.add_argument("--amount", help="dollars approved, for a partial approval")
    decide.add_argument("--program", help="program reference that pays it")
    decide.add_argument("--method", choices=[m.value for m in claim_decisions.PAYABLE_METHODS])
    _acting(actions, "approve", "second person's approval of a large decision", _approve)


def _acting(actions: _SubParsersAction[Any], name: str, text: str, handler: Any) -> ArgumentParser:
    parser: ArgumentParser = actions.add_parser(name, help=text)
    parser.add_argument("reference", help="claim reference, e.g. CLM-2026-00001")
    parser.add_argument("--as", dest="as_user", metavar="USER", required=True)
    parser.set_defaults(handler=handler)
    return parser


def _report(command: BaseCommand, o: Options) -> None:
    if o["format"] == "pdf" and o["out"] is None:
        raise AmendsError("a PDF is binary, not for the terminal: give --out FILE", field="out")
    report = program_report(program_by_reference(o["reference"]))
    if o["format"] == "pdf":
        content = render_report_pdf(report)
    else:
        text = render_report_csv(report) if o["format"] == "csv" else render_report_html(report)
        if o["out"] is None:
            command.stdout.write(text, ending="")
            return
        content = text.encode()
    o["out"].write_bytes(content)
    command.stdout.write(f"Wrote {o['out']} ({o['format']}, {len(content):,} bytes)")


def _claim(reference: str) -> Claim:
    claim = (
        Claim.objects.select_related("outage", "program", "customer", "assessor")
        .filter(reference=reference.strip().upper())
        .first()
    )
    if claim is None:
        raise NotFound(f"no claim {reference}", field="reference")
    return claim


def claim_summary(claim: Claim) -> dict[str, Any]:
    return {
        "reference": claim.reference,
        "status": claim.status,
        "business_name": claim.business_name,
        "customer": claim.customer.external_id if claim.customer else None,
        "outage": claim.outage.reference if claim.outage else None,
        "program": claim.program.reference if claim.program else None,
        "amount_claimed_cents": claim.amount_claimed_cents,
        "amount_approved_cents": claim.amount_approved_cents,
        "payout_method": claim.payout_method or None,
        "assessor": claim.assessor.get_username() if claim.assessor else None,
        "created_at": claim.created_at.isoformat(),
        "decided_at": claim.decided_at.isoformat() if claim.decided_at else None,
    }


def _list(command: BaseCommand, o: Options) -> None:
    claims = Claim.objects.select_related("outage", "program", "customer", "assessor")
    if o["status"] == "open":
        claims = claims.exclude(status__in=DECIDED_CLAIM_STATUSES)
    elif o["status"]:
        claims = claims.filter(status=o["status"])
    if o["outage"]:
        claims = claims.filter(outage__reference__iexact=o["outage"])
    rows = [claim_summary(c) for c in claims.order_by("created_at", "id")]
    if o["json"]:
        command.stdout.write(json.dumps(rows, indent=2))
        return
    for row in rows:
        claimed = format_cents(row["amount_claimed_cents"])
        command.stdout.write(
            f"{row['reference']}  {row['status']:<16} {claimed:>14}"
            f"  {row['outage'] or '-':<14} {row['business_name']}"
        )
    command.stdout.write(f"{len(rows)} claim{'s' if len(rows) != 1 else ''}")


def _show(command: BaseCommand, o: Options) -> None:
    claim = _claim(o["reference"])
    evidence = [
        {"name": e.original_name, "type": e.content_type, "size": e.size, "sha256": e.sha256}
        for e in claim.evidence.order_by("uploaded_at", "id")
    ]
    data = {
        **claim_summary(claim),
        "contact": {"name": claim.contact_name, "email": claim.email, "phone": claim.phone},
        "description": claim.description,
        "decision_reasons": claim.decision_reasons,
        "evidence": evidence,
    }
    if o["json"]:
        command.stdout.write(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key != "evidence":
            command.stdout.write(f"{key}: {value if value is not None else '-'}")
    for item in evidence:
        command.stdout.write(f"evidence: {item['name']} ({item['type']}, {item['size']:,} bytes)")


def _user(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True, is_staff=True).first()
    if user is None:
        raise AmendsError(f"no active staff account {username!r}", field="as")
    return user


def _amount(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise AmendsError(str(exc), field="amount") from None


def _decide(command: BaseCommand, o: Options) -> None:
    claim = claim_decisions.claim_decide(
        actor=_user(o["as_user"]),
        claim=_claim(o["reference"]),
        outcome=o["outcome"],
        reasons=o["reasons"],
        amount_cents=_amount(o["amount"]),
        program=program_by_reference(o["program"]) if o["program"] else None,
        method=o["method"] or "",
    )
    command.stdout.write(f"{claim.reference}: {claim.get_status_display().lower()}")


def _approve(command: BaseCommand, o: Options) -> None:
    claim = claim_decisions.claim_approve(actor=_user(o["as_user"]), claim=_claim(o["reference"]))
    method = PayoutMethod(claim.payout_method).label.lower()
    amount = format_cents(claim.amount_approved_cents or 0)
    command.stdout.write(
        f"{claim.reference}: {claim.get_status_display().lower()}, {amount} as {method}"
    )
