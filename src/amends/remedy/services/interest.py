"""Foregone interest on late refunds and residual amounts, recomputed to the payment date.

The calculation stores interest to its ``as_of``; when a refund is actually exported for
payment (or an amount moves to the residual ledger) the interest is worked out again, from the
customer's own outage end (``Entitlement.outage_end``) to that moment, with the calculation's
rate and the policy's rounding (``policy.interest_cents``: the engine's one formula). Bill
credits carry no interest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import F, QuerySet

from amends.core.money import Rounding
from amends.remedy import policy
from amends.remedy.models import Payout, Program

CHUNK = 5000  # rows per UPDATE: 3 parameters each stays under SQLite's 32,766


@dataclass(frozen=True)
class InterestRule:
    annual_rate: Decimal
    rounding: Rounding


def interest_rule(program: Program) -> InterestRule | None:
    """The approved calculation's interest rate (None: its policy pays no interest) and the
    policy's rounding rule."""
    calculation = program.approved_calculation
    if calculation is None or calculation.interest_rate is None:
        return None
    document = policy.validate_policy(calculation.policy_version.document)
    return InterestRule(Decimal(calculation.interest_rate), document.rounding)


def apply_to_payment(program: Program, payouts: QuerySet[Payout], *, paid_at: datetime) -> int:
    """Set each entitlement payout's interest to ``paid_at`` (amount = principal + interest);
    returns how many were updated. Claims carry no interest."""
    rule = interest_rule(program)
    if rule is None:
        return 0
    as_of = program.approved_calculation.as_of  # type: ignore[union-attr]
    updated = 0
    batch: list[tuple[int, int, int]] = []
    for payout_id, principal, ended in _principals(payouts):
        due = policy.interest_cents(
            principal, ended or as_of, paid_at, rule.annual_rate, rule.rounding
        )
        batch.append((payout_id, principal + due, due))
        if len(batch) >= CHUNK:
            updated += _write(batch)
            batch = []
    return updated + _write(batch)


def _principals(payouts: QuerySet[Payout]) -> list[tuple[int, int, datetime | None]]:
    """(payout id, principal, the customer's outage end) of each entitlement payout, read
    whole before any row is written back (SQLite must not update a table it is reading)."""
    return list(
        payouts.filter(entitlement__isnull=False)
        .annotate(principal=F("amount_cents") - F("interest_cents"))
        .order_by("pk")
        .values_list("pk", "principal", "entitlement__outage_end")
    )


def _write(rows: list[tuple[int, int, int]]) -> int:
    """One UPDATE … FROM a VALUES list for a chunk of (id, amount, interest)."""
    if not rows:
        return 0
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH due(id, amount, interest) AS (VALUES {values}) "  # noqa: S608
            "UPDATE remedy_payout SET amount_cents = due.amount, interest_cents = due.interest "
            "FROM due WHERE remedy_payout.id = due.id",
            [value for row in rows for value in row],
        )
        return int(cursor.rowcount)
