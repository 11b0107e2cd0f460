"""Each calculation basis as SQL over one affected service.

A basis turns a service's row ``svc`` — ``secs`` (merged seconds without service), ``charge``
(monthly cents), ``service_ref`` (its external id), ``seg`` (the customer's segment),
``late_days`` (days out after the grace period, for fixed-per-day), ``product_name`` — into
an amount in units of 1/``denominator`` cent (an integer, so sums stay exact) and a line of
the explanation, in which ``amt`` is the amount once computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from amends.remedy.calculation.dialect import Dialect
from amends.remedy.policy import (
    Fixed,
    FixedAfterHours,
    FixedPerDay,
    PerStartedDay,
    PolicyDocument,
    ProRata,
    Tiered,
)

Money = Callable[[str | int], str]
HOUR = 3600
DAY = 86_400


@dataclass(frozen=True)
class BasisSql:
    denominator: int
    amount: str  # SQL: units of 1/denominator cent
    line: str  # SQL: "Home Internet (S1): 14 h 05 min × $89.00/month ÷ 730 h = $1.72"
    needs_grace: bool = False
    # SQL over one spell out of service (``x.s``, ``x.e``, overlapping windows merged): what
    # it adds to ``svc.spell_days``, for bases that count each interruption on its own.
    spell_days: str | None = None


def basis_sql(doc: PolicyDocument, d: Dialect, symbol: str) -> BasisSql:
    """The SQL for ``doc.basis``; ``amt`` names the amount column in the line expression."""

    def money(cents: str | int) -> str:  # an SQL expression or a constant
        return d.money(str(cents), symbol)

    basis = doc.basis
    prefix = "svc.product_name || ' (' || svc.service_ref || '): '"
    dur = d.duration("svc.secs")
    match basis:
        case ProRata():
            denominator = basis.hours_per_month * HOUR
            shown = money(d.round("amt", denominator, doc.rounding))
            return BasisSql(
                denominator,
                "svc.charge * svc.secs",
                f"{prefix} || {dur} || ' × ' || {money('svc.charge')} || "
                f"'/month ÷ {basis.hours_per_month} h = ' || {shown}",
            )
        case PerStartedDay() if basis.per_interruption:
            return _per_interruption(basis, doc, d, prefix, dur, money)
        case PerStartedDay():
            days = d.div(f"svc.secs + {DAY - 1}", DAY)
            enough = f"svc.secs >= {basis.min_outage_hours * HOUR}"
            shown = money(d.round("amt", basis.days_per_month, doc.rounding))
            return BasisSql(
                basis.days_per_month,
                f"CASE WHEN {enough} THEN svc.charge * {days} ELSE 0 END",
                f"{prefix} || CASE WHEN {enough} THEN {d.text(days)} || ' started day(s) (' || "
                f"{dur} || ') × ' || {money('svc.charge')} || "
                f"'/month ÷ {basis.days_per_month} = ' || {shown} "
                f"ELSE {dur} || ', less than {basis.min_outage_hours} h: ' || {money(0)} END",
            )
        case FixedPerDay():
            grace = f"{basis.grace_days} {basis.grace_counts.replace('_', ' ')}"
            return BasisSql(
                1,
                f"svc.late_days * {basis.amount_cents}",
                f"{prefix} || {dur} || ', ' || {d.text('svc.late_days')} || ' day(s) after "
                f"{grace} of grace × ' || {money(basis.amount_cents)} || ' = ' || {money('amt')}",
                needs_grace=True,
            )
        case FixedAfterHours():
            return _fixed_after_hours(basis, d, prefix, dur, money)
        case Tiered():
            return _tiered(basis, prefix, dur, money)
        case Fixed():
            return BasisSql(
                1,
                str(basis.amount_cents),
                f"{prefix} || {dur} || ', fixed ' || {money('amt')}",
            )
    raise AssertionError(f"unknown basis {basis!r}")


def _per_interruption(
    basis: PerStartedDay, doc: PolicyDocument, d: Dialect, prefix: str, dur: str, money: Money
) -> BasisSql:
    """Per started day of each interruption lasting at least ``min_outage_hours``; shorter
    interruptions add nothing, even when together they are longer."""
    hours = basis.min_outage_hours
    days = d.div(f"x.e - x.s + {DAY - 1}", DAY)
    shown = money(d.round("amt", basis.days_per_month, doc.rounding))
    return BasisSql(
        basis.days_per_month,
        "svc.charge * svc.spell_days",
        f"{prefix} || CASE WHEN svc.spell_days > 0 THEN {d.text('svc.spell_days')} || "
        f"' started day(s) of interruptions of {hours} h or more (' || {dur} || ' in all) × ' "
        f"|| {money('svc.charge')} || '/month ÷ {basis.days_per_month} = ' || {shown} "
        f"ELSE {dur} || ', no interruption of {hours} h or more: ' || {money(0)} END",
        spell_days=f"CASE WHEN x.e - x.s >= {hours * HOUR} THEN {days} ELSE 0 END",
    )


def _first_amount(basis: FixedAfterHours) -> str:
    if not basis.amount_cents_by_segment:
        return str(basis.amount_cents)
    by_segment = basis.amount_cents_by_segment.items()  # segment names are validated literals
    cases = " ".join(f"WHEN '{segment}' THEN {cents}" for segment, cents in by_segment)
    return f"(CASE svc.seg {cases} ELSE {basis.amount_cents} END)"


def _fixed_after_hours(
    basis: FixedAfterHours, d: Dialect, prefix: str, dur: str, money: Money
) -> BasisSql:
    after = basis.after_hours * HOUR
    further = d.div(f"svc.secs - {after}", basis.further_every_hours * HOUR)
    first = _first_amount(basis)
    uncapped = f"{first} + {further} * {basis.further_amount_cents}"
    amount = uncapped if basis.cap_cents is None else d.least(uncapped, str(basis.cap_cents))
    capped = (
        ""
        if basis.cap_cents is None
        else f" || CASE WHEN {uncapped} > {basis.cap_cents} THEN ' (cap "
        f"' || {money(basis.cap_cents)} || ')' ELSE '' END"
    )
    return BasisSql(
        1,
        f"CASE WHEN svc.secs > {after} THEN {amount} ELSE 0 END",
        f"{prefix} || {dur} || CASE WHEN svc.secs > {after} THEN ': ' || {money(first)} || "
        f"' after {basis.after_hours} h + ' || {d.text(further)} || ' × ' || "
        f"{money(basis.further_amount_cents)} || ' per further {basis.further_every_hours} h = ' "
        f"|| {money('amt')}{capped} ELSE ', not more than {basis.after_hours} h: ' || "
        f"{money(0)} END",
    )


def _tiered(basis: Tiered, prefix: str, dur: str, money: Money) -> BasisSql:
    highest_first = list(reversed(basis.tiers))
    amount = " ".join(
        f"WHEN svc.secs > {tier.over_hours * HOUR} THEN {tier.amount_cents}"
        for tier in highest_first
    )
    label = " ".join(
        f"WHEN svc.secs > {tier.over_hours * HOUR} THEN ', over {tier.over_hours} h = '"
        for tier in highest_first
    )
    return BasisSql(
        1,
        f"(CASE {amount} ELSE 0 END)",
        f"{prefix} || {dur} || (CASE {label} ELSE ', not over "
        f"{basis.tiers[0].over_hours} h: ' END) || {money('amt')}",
    )
