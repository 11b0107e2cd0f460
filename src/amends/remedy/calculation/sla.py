"""SLA credits (``PolicyDocument.sla_credits``) as SQL over one affected service.

A service of a tier the policy credits, whose merged time without service (``svc.secs``, the
same the basis uses) passes the tier's target, earns ``percent_per_block`` % of its monthly
charge for each started block beyond the target, at most ``max_percent`` %. The credit is kept
in units of 1/100 cent (charge × whole percent), exact, and added to the customer's sum of
basis amounts before goodwill, minimum, cap and the one rounding.

Three expressions, each needing the one before: ``blocks`` over ``svc`` (with its ``tier``),
``percent`` over a row with ``sla_blocks``, and ``line`` over a row with both and
``sla_pct``. A policy without SLA credits has none of them (:func:`sla_sql` gives None), so its
SQL carries no tier and does no work for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from amends.network.models import SlaTier
from amends.remedy.calculation.basis import Money
from amends.remedy.calculation.dialect import Dialect
from amends.remedy.policy import PolicyDocument, SlaCredit

SLA_DENOMINATOR = 100  # credits are in units of 1/100 cent: charge × whole percent
MINUTE = 60
# For the inputs checksum: the tier a service had is an input of its credit.
TIER_CODES = {tier: code for code, tier in enumerate(SlaTier.values, start=1)}


@dataclass(frozen=True)
class SlaSql:
    blocks: str  # SQL: started blocks past the target (0 within it, or for a tier not credited)
    percent: str  # SQL: % of the monthly charge credited, from ``svc.sla_blocks``
    line: str  # SQL: "; SLA credit, business tier: …", or '' for a service with no credit
    tier_code: str  # SQL: the service's tier as a number


def sla_sql(doc: PolicyDocument, d: Dialect, symbol: str) -> SlaSql | None:
    """The SQL for ``doc.sla_credits``, or None when the policy has none."""
    if not doc.sla_credits:
        return None

    def money(cents: str | int) -> str:
        return d.money(str(cents), symbol)

    rules = doc.sla_credits.items()  # tier names are validated literals
    blocks = " ".join(
        f"WHEN svc.tier = '{tier}' AND svc.secs > {rule.restore_within_minutes * MINUTE} "
        f"THEN {_started_blocks(rule, d)}"
        for tier, rule in rules
    )
    percent = " ".join(
        f"WHEN '{tier}' THEN "
        f"{d.least(f'svc.sla_blocks * {rule.percent_per_block}', str(rule.max_percent))}"
        for tier, rule in rules
    )
    lines = " ".join(
        f"WHEN svc.tier = '{tier}' THEN {_line(tier, rule, d, money, doc)}" for tier, rule in rules
    )
    codes = " ".join(f"WHEN '{tier}' THEN {code}" for tier, code in TIER_CODES.items())
    return SlaSql(
        f"(CASE {blocks} ELSE 0 END)",
        f"(CASE svc.tier {percent} ELSE 0 END)",
        f"(CASE WHEN svc.sla_pct = 0 THEN '' {lines} END)",
        f"(CASE svc.tier {codes} ELSE 0 END)",
    )


def _started_blocks(rule: SlaCredit, d: Dialect) -> str:
    block = rule.block_minutes * MINUTE
    return d.div(f"svc.secs - {rule.restore_within_minutes * MINUTE} + {block - 1}", block)


def _line(tier: str, rule: SlaCredit, d: Dialect, money: Money, doc: PolicyDocument) -> str:
    """'; SLA credit, business tier: restored 2 h 10 min after the 4 h target, 1 block(s) of
    4 h × 10 % of $150.00/month = $15.00' (", at most 30 %" when the maximum applies)."""
    late = d.duration(f"svc.secs - {rule.restore_within_minutes * MINUTE}")
    capped = (
        f"CASE WHEN svc.sla_blocks * {rule.percent_per_block} > {rule.max_percent} "
        f"THEN ', at most {rule.max_percent} %%' ELSE '' END"
    )
    credit = d.round("svc.charge * svc.sla_pct", SLA_DENOMINATOR, doc.rounding)
    return (
        f"'; SLA credit, {tier} tier: ' || CASE WHEN svc.still_out = 1 THEN 'still out ' "
        f"ELSE 'restored ' END || {late} || ' after the "
        f"{_minutes(rule.restore_within_minutes)} target, ' || {d.text('svc.sla_blocks')} || "
        f"' block(s) of {_minutes(rule.block_minutes)} × {rule.percent_per_block} %%' || "
        f"{capped} || ' of ' || {money('svc.charge')} || '/month = ' || {money(credit)}"
    )


def _minutes(minutes: int) -> str:
    """240 → "4 h", 270 → "4 h 30 min", 45 → "45 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"
