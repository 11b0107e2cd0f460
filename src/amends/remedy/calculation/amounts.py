"""Stage 2: amounts (CTEs ``svc_amt`` … ``c3``) and the Entitlement rows.

Per service: the basis amount ``amt`` in units of 1/D cent (D: the basis's denominator), its
SLA credit ``sla`` in units of 1/100 cent when the policy has SLA credits, and its explanation
line. Per customer: the exact sum of their covered services' amounts and credits, goodwill by
segment, raised to the minimum and lowered to the cap, then rounded once (``principal``);
interest on the principal from the customer's outage end to ``as_of``; the exclusion reason;
the explanation.
"""

# SQL assembled from fixed fragments, validated ints and literal segment names; every text
# value is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from typing import TYPE_CHECKING

from amends.remedy.calculation.basis import DAY, Money
from amends.remedy.calculation.dialect import SYMBOL, remedy_name
from amends.remedy.calculation.sla import SLA_DENOMINATOR
from amends.remedy.calculation.windows import CHECKSUM_MODULUS
from amends.remedy.policy import DAYS_PER_YEAR, RATE_SCALE, rate_units

if TYPE_CHECKING:
    from amends.remedy.calculation import Plan


def ctes(plan: Plan) -> list[str]:
    return [
        *_service_lines(plan),
        _customers(plan),
        _eligibility(plan),
        _principal(plan),
        _interest(plan),
    ]


def _service_lines(plan: Plan) -> list[str]:
    """``svc_amt`` and ``svc_line``: each service's amount, line and what the explanation
    shows of it (``shown``, rounded); with SLA credits, ``svc_sla`` first and the credit."""
    d, sla = plan.d, plan.sla
    flags = "".join(
        f", CASE WHEN svc.covered = 1{_products(plan, n)} THEN 1 ELSE 0 END AS nm{n}"
        for n in plan.remedies
    )
    inputs = "svc.mix * 31 + svc.charge * 1000003 + svc.product_id"
    shown = d.round("svc.amt", plan.basis.denominator, plan.doc.rounding)
    line, source, percent, credit_column, first = plan.basis.line, "svc", "", "", []
    if sla is not None:
        first.append(f"svc_sla AS (SELECT svc.*, {sla.blocks} AS sla_blocks FROM svc)")
        source, percent = "svc_sla svc", f", {sla.percent} AS sla_pct"
        credit = "svc.charge * svc.sla_pct"  # units of 1/100 cent
        credit_column = f"{credit} AS sla, "
        shown += f" + {d.round(credit, SLA_DENOMINATOR, plan.doc.rounding)}"
        inputs += f" + {sla.tier_code} * 8191"  # the tier is an input of the credit
        line += f" || {sla.line}"
    return [
        *first,
        f"svc_amt AS (SELECT svc.*, {plan.basis.amount} AS amt{percent} FROM {source})",
        f"svc_line AS (SELECT svc.service_id, svc.customer_id, svc.covered, svc.amt, "
        f"{credit_column}"
        f"svc.cgain, svc.last_e, svc.still_out, svc.seg, svc.former, "
        f"{d.mod(inputs, CHECKSUM_MODULUS)} AS mix, {line} AS line, {shown} AS shown{flags} "
        "FROM svc_amt svc)",
    ]


def _products(plan: Plan, remedy: int) -> str:
    products = plan.i.remedy_product_ids[remedy]
    return "" if products is None else f" AND svc.product_id IN ({plan.ints(products)})"


def _customers(plan: Plan) -> str:
    """``cust``: one row per customer, summed over their services: the union of their covered
    (else all) services' windows, the exact sum of the covered amounts, the lines in service
    order. PostgreSQL groups the rows, which arrive sorted by customer; SQLite 3.40 has no
    ordered aggregate, so there window aggregates over each customer's rows in service order
    keep their result on the customer's first row."""
    d = plan.d
    w = "" if d.postgres else "OVER w"
    columns = [
        (f"MIN(seg) {w}", "seg"),
        (f"MAX(former) {w}", "former"),
        (f"MAX(covered) {w}", "has_covered"),
        (
            f"CASE WHEN MAX(covered) {w} = 1 THEN {d.sum('covered * cgain', w)} "
            f"ELSE {d.sum('cgain', w)} END",
            "secs",
        ),
        (d.sum("covered * amt", w), "base_n"),
        (d.sum("covered * shown", w), "lines_c"),
        (f"COUNT(*) {w}", "services"),
        (f"MAX(CASE WHEN covered = 1 THEN last_e END) {w}", "last_e"),
        (f"MAX(covered * still_out) {w}", "still_out"),
        (d.sum("mix", w), "mix"),
    ] + [(f"MAX(nm{n}) {w}", f"nm{n}") for n in plan.remedies]
    if plan.sla is not None:
        columns.append((d.sum("covered * sla", w), "sla_n"))
    aggregates = ", ".join(f"{expr} AS {name}" for expr, name in columns)
    lines = "CASE WHEN covered = 1 THEN line END, '; '"
    if d.postgres:
        return (
            f"cust AS (SELECT customer_id, {aggregates}, STRING_AGG({lines} ORDER BY "
            "service_id) AS lines FROM svc_line GROUP BY customer_id)"
        )
    return (
        f"cust AS (SELECT * FROM (SELECT customer_id, {aggregates}, group_concat({lines}) {w} "
        "AS lines, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY service_id) AS first_row "
        "FROM svc_line WINDOW w AS (PARTITION BY customer_id ORDER BY service_id ROWS BETWEEN "
        "UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) ordered WHERE first_row = 1)"
    )


def _exclusion(plan: Plan) -> str:
    rules = plan.doc.eligibility
    cases = []
    if rules.min_affected_customers:
        threshold = rules.min_affected_customers
        cases.append(f"WHEN (SELECT COUNT(*) FROM cust) < {threshold} THEN 'few'")
    if plan.i.excluded_customer_ids:
        excluded = plan.ints(plan.i.excluded_customer_ids)
        cases.append(f"WHEN t.customer_id IN ({excluded}) THEN 'excluded'")
    if rules.customers == "current":
        cases.append("WHEN t.former = 1 THEN 'former'")
    elif rules.customers == "former":
        cases.append("WHEN t.former = 0 THEN 'current'")
    if rules.segments:
        names = ", ".join(f"'{segment}'" for segment in rules.segments)  # validated literals
        cases.append(f"WHEN t.seg NOT IN ({names}) THEN 'segment'")
    cases.append("WHEN t.has_covered = 0 THEN 'product'")
    cases.append(f"WHEN t.secs < {rules.min_outage_minutes * 60} THEN 'short'")
    return f"CASE {' '.join(cases)} ELSE '' END"


def _eligibility(plan: Plan) -> str:
    goodwill = " ".join(
        f"WHEN '{segment}' THEN {cents}"  # validated segment names and ints
        for segment, cents in plan.doc.goodwill_cents.items()
    )
    # BIGINT: goodwill × the denominator passes 2^31 (PostgreSQL types small literals int).
    bonus = f"CAST(CASE t.seg {goodwill} ELSE 0 END AS BIGINT)" if goodwill else "0"
    segment_code = "CASE t.seg WHEN 'consumer' THEN 1 WHEN 'small_business' THEN 2 "
    segment_code += "WHEN 'enterprise' THEN 3 ELSE 4 END"
    mix = plan.d.mod(f"t.mix * 7 + ({segment_code}) * 2 + t.former", CHECKSUM_MODULUS)
    # How many customers the outages affected, for a policy with a threshold of them.
    affected = ""
    if plan.doc.eligibility.min_affected_customers:
        affected = ", (SELECT COUNT(*) FROM cust) AS affected"
    return (
        f"c1 AS (SELECT t.*{affected}, t.seg AS segment, {_exclusion(plan)} AS excl, "
        f"{bonus} AS bonus, {mix} AS checksum FROM cust t)"
    )


def _principal(plan: Plan) -> str:
    """Base (and SLA credits) + goodwill, raised to the minimum, lowered to the cap, rounded
    once; each component rounded too, for the Entitlement's columns (``sum_c``: the services'
    amounts and credits together, for the explanation)."""
    d, n, doc = plan.d, plan.denominator, plan.doc
    services = _services_exact(plan)
    exact = f"({services} + c1.bonus * {n})"
    clamped = d.greatest(exact, str(doc.minimum_cents * n))
    if doc.cap_cents is not None:
        clamped = d.least(clamped, str(doc.cap_cents * n))
    base = d.round("c1.base_n", plan.basis.denominator, doc.rounding)
    credits = ""
    if plan.sla is not None:
        credits = (
            f", CASE WHEN c1.excl = '' THEN {d.round('c1.sla_n', SLA_DENOMINATOR, doc.rounding)} "
            f"ELSE 0 END AS sla_c, {d.round(services, n, doc.rounding)} AS sum_c"
        )
    return (
        f"c2 AS (SELECT c1.*, {exact} AS exact_n, CASE WHEN c1.excl = '' THEN "
        f"{d.round(clamped, n, doc.rounding)} ELSE 0 END AS principal, CASE WHEN c1.excl = '' "
        f"THEN {base} ELSE 0 END AS base_c{credits} FROM c1)"
    )


def _services_exact(plan: Plan) -> str:
    """The exact sum of a customer's covered services' amounts and SLA credits, in units of
    1/plan.denominator cent."""
    if plan.sla is None:
        return "c1.base_n"
    basis_scale = plan.denominator // plan.basis.denominator
    sla_scale = plan.denominator // SLA_DENOMINATOR
    return f"(c1.base_n * {basis_scale} + c1.sla_n * {sla_scale})"


def _interest(plan: Plan) -> str:
    d, rate = plan.d, plan.i.interest_rate
    days = (
        "CASE WHEN c2.still_out = 1 OR c2.last_e IS NULL THEN 0 "
        f"ELSE {d.div(f'{plan.as_of} - c2.last_e', DAY)} END"
    )
    interest = "0"
    if rate is not None:
        units = f"c2.principal * {rate_units(rate)} * ({days})"
        interest = d.round(units, 100 * RATE_SCALE * DAYS_PER_YEAR, plan.doc.rounding)
    return f"c3 AS (SELECT c2.*, {days} AS idays, {interest} AS interest FROM c2)"


def insert(plan: Plan) -> str:
    eligible = "(c3.excl = '' AND c3.principal + c3.interest > 0)"
    exclusion = "CASE WHEN c3.excl = '' AND c3.principal + c3.interest = 0 THEN 'zero' "
    exclusion += "ELSE c3.excl END"
    outage_end = f"CASE WHEN c3.still_out = 1 THEN NULL ELSE {plan.d.timestamp('c3.last_e')} END"
    if_eligible = "CASE WHEN c3.excl = '' THEN {} ELSE 0 END"
    adjustment = "c3.principal - c3.base_c - c3.bonus"
    credits_column = credits = ""  # sla_cents is 0 unless the policy has SLA credits
    if plan.sla is not None:
        adjustment += " - c3.sla_c"
        credits_column, credits = " sla_cents,", " c3.sla_c,"
    return (
        "INSERT INTO remedy_entitlement (calculation_id, customer_id, eligible, exclusion, "
        f"outage_seconds, outage_end, services, base_cents,{credits_column} bonus_cents, "
        "interest_cents, adjustment_cents, total_cents, non_monetary, explanation, "
        "inputs_checksum) "
        f"SELECT {int(plan.i.calculation_id)}, c3.customer_id, {eligible}, {exclusion}, "
        f"c3.secs, {outage_end}, c3.services, c3.base_c,{credits} "
        f"{if_eligible.format('c3.bonus')}, c3.interest, {if_eligible.format(adjustment)}, "
        f"c3.principal + c3.interest, {_non_monetary(plan)}, {_explanation(plan)}, "
        # In customer order (as the rows already come): the new rows' index entries then
        # append instead of landing on random pages, which halves the cost of writing them.
        "c3.checksum FROM c3 ORDER BY c3.customer_id"
    )


def _non_monetary(plan: Plan) -> str:
    if not plan.doc.non_monetary:
        return "''"
    parts = " || ".join(
        f"CASE WHEN c3.nm{n} = 1 THEN '; ' || {remedy_name(n)} ELSE '' END" for n in plan.remedies
    )
    return f"CASE WHEN c3.excl = '' THEN SUBSTR({parts}, 3) ELSE '' END"


def _explanation(plan: Plan) -> str:
    d = plan.d

    def money(cents: str | int) -> str:
        return d.money(str(cents), SYMBOL)

    rules = plan.doc.eligibility
    minimum = rules.min_outage_minutes * 60
    few = ""
    if rules.min_affected_customers:
        few = (
            f"WHEN 'few' THEN 'Not eligible: the outage affected ' || {d.text('c3.affected')} "
            f"|| ' subscriber(s), fewer than the policy''s threshold of "
            f"{rules.min_affected_customers}' "
        )
    return (
        f"CASE c3.excl {few}"
        f"WHEN '' THEN CASE WHEN c3.principal + c3.interest = 0 THEN 'Nothing owed: ' || "
        f"COALESCE(c3.lines, 'no amount') ELSE {_owed(plan, money)} END "
        "WHEN 'excluded' THEN 'Not eligible: on the policy''s exclusion list' "
        "WHEN 'former' THEN 'Not eligible: former customer; the policy covers current "
        "customers only' "
        "WHEN 'current' THEN 'Not eligible: current customer; the policy covers former "
        "customers only' "
        "WHEN 'segment' THEN 'Not eligible: the policy does not cover the ' || "
        "REPLACE(c3.segment, '_', ' ') || ' segment' "
        "WHEN 'product' THEN 'Not eligible: no affected service on a product the policy "
        "covers' "
        f"ELSE 'Not eligible: ' || {d.duration('c3.secs')} || ' without service, less than "
        f"the policy''s minimum of ' || {d.duration(str(minimum))} END"
    )


def _owed(plan: Plan, money: Money) -> str:
    doc, n, d = plan.doc, plan.denominator, plan.d
    # Each line is shown rounded; the total rounds their exact sum once, which can differ.
    rounded_sum = "c3.base_c" if plan.sla is None else "c3.sum_c"
    parts = [
        f"c3.lines || CASE WHEN c3.lines_c <> {rounded_sum} THEN '; exact sum rounded once: ' "
        f"|| {money(rounded_sum)} ELSE '' END",
        f"CASE WHEN c3.bonus > 0 THEN '; ' || REPLACE(c3.segment, '_', '-') || ' goodwill ' "
        f"|| {money('c3.bonus')} ELSE '' END",
    ]
    if doc.minimum_cents:
        parts.append(
            f"CASE WHEN c3.exact_n < {doc.minimum_cents * n} THEN '; minimum ' || "
            f"{money(doc.minimum_cents)} || ' applies' ELSE '' END"
        )
    if doc.cap_cents is not None:
        parts.append(
            f"CASE WHEN c3.exact_n > {doc.cap_cents * n} THEN '; capped at ' || "
            f"{money(doc.cap_cents)} ELSE '' END"
        )
    if plan.i.interest_rate is not None:
        rate = format(plan.i.interest_rate.normalize(), "f")
        parts.append(
            f"CASE WHEN c3.interest > 0 THEN '; interest {rate} %% a year for ' || "
            f"{d.text('c3.idays')} || ' day(s) on ' || {money('c3.principal')} || ' = ' || "
            f"{money('c3.interest')} ELSE '' END"
        )
    parts.append(f"'; total ' || {money('c3.principal + c3.interest')}")
    return " || ".join(parts)
