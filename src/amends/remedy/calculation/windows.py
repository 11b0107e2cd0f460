"""Stage 1: time without service, per window and per service (CTEs ``win`` … ``svc``).

Times are whole epoch seconds. A window still open at ``as_of`` (or closing after it) counts
to ``as_of`` and leaves the service ``still_out``.

Overlapping windows are counted once by a sweep: ordered by start, each window adds only the
part of it past the latest end seen so far in its group (``gain``), so the gains of a group
add up to the length of the union of its windows. Per customer the group is their covered (or
other) services (``cgain``); per service, its windows from several outages. A window's
customer gain is carried into its service's row and summed again per customer in stage 2,
which gives the customer's union without a second per-customer pass to join back.

One outage never gives a service overlapping windows (a service has one open window per
outage, and a new one only starts after the last closed), so with a single outage the
per-service sweep is skipped. The fixed-per-day basis counts days after a grace period that
starts with each spell out of service, and the per-interruption started-day basis counts each
spell on its own, so there the windows are merged into islands (gaps and islands) instead.

Every window row carries what later stages need of its service, product and customer (joined
here, once, where the planner can count the rows), so nothing after this stage joins: the
rows flow sorted by customer from the sweep to the insert.
"""

# SQL assembled from fixed fragments, validated ints and literal segment names; every text
# value is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from typing import TYPE_CHECKING

from amends.outages.models import Impact
from amends.remedy.calculation.basis import DAY
from amends.remedy.policy import FixedPerDay, grace_end

if TYPE_CHECKING:
    from amends.remedy.calculation import Plan

GROUP_STRIDE = 2**32  # seconds since 1970 stay below it until 2106
CHECKSUM_MODULUS = 2_147_483_647  # a prime below 2^31: sums of many stay inside 64 bits
SERVICE_COLUMNS = ("charge", "product_id", "service_ref", "product_name", "seg", "former")


def service_fields(plan: Plan) -> str:
    """The same on every row of a service; MIN just carries them through a GROUP BY. The SLA
    tier only when the policy credits one."""
    names = SERVICE_COLUMNS if plan.sla is None else (*SERVICE_COLUMNS, "tier")
    return ", ".join(f"MIN({name}) AS {name}" for name in names)


def ctes(plan: Plan) -> list[str]:
    parts = [_grace(plan)] if plan.basis.needs_grace else []
    parts.append(_windows(plan))
    parts += _customer_sweep(plan)
    several = len(plan.i.outage_ids) > 1
    if several and (plan.basis.needs_grace or plan.basis.spell_days):
        parts += islands(plan)
        parts.append(_services(plan, "svc_span", "x.e - x.s"))
    elif several:
        parts += sweep(plan, "win_c", "service_id", "svc", "x.*")
        parts.append(_services(plan, "svc_sweep", "x.gain"))
    else:
        parts.append(_services(plan, "win_c", "x.e - x.s"))
    return parts


def _customer_sweep(plan: Plan) -> list[str]:
    """``win_c``: each window with ``cgain``, the seconds it adds to the union of its
    customer's covered (or, apart, other) windows; rows come out sorted by customer."""
    reach = (
        "MAX(e) OVER (PARTITION BY customer_id, covered ORDER BY s, e "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    )
    return [f"win_c AS (SELECT w.*, {_gain(plan, 's', 'e', reach)} AS cgain FROM win w)"]


def _gain(plan: Plan, start: str, end: str, reach: str) -> str:
    """The part of a window past ``reach``, the latest end before it in its group."""
    d = plan.d
    return d.greatest("0", f"{end} - {d.greatest(start, f'COALESCE({reach}, 0)')}")


def _keyed(source: str, group: str, prefix: str, columns: str) -> str:
    """Times keyed by their group, ``group × 2^32 + t``, so that one global order serves every
    group: an earlier group's keys are all smaller. Holds for ids below 2^30 and times before
    2106."""
    key = f"({group}) * {GROUP_STRIDE}"
    return f"{prefix}_key AS (SELECT {columns}, {key} + s AS ks, {key} + e AS ke FROM {source} x)"


def sweep(plan: Plan, source: str, group: str, prefix: str, columns: str) -> list[str]:
    """``{prefix}_sweep``: ``source``'s rows with ``gain``, the seconds each adds to the union
    of its group's windows."""
    reach = "MAX(ke) OVER (ORDER BY ks, ke ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    return [
        _keyed(source, group, prefix, columns),
        f"{prefix}_sweep AS (SELECT y.*, {_gain(plan, 'ks', 'ke', reach)} AS gain "
        f"FROM {prefix}_key y)",
    ]


def islands(plan: Plan) -> list[str]:
    """``svc_span``: each service's windows merged into islands (a window opens a new island
    unless it starts before the latest end so far; the running count numbers them)."""
    order = "ORDER BY ks, ke"
    return [
        _keyed("win_c", "service_id", "svc", "x.*"),
        f"svc_mark AS (SELECT y.*, CASE WHEN ks <= MAX(ke) OVER ({order} ROWS BETWEEN "
        "UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS fresh FROM svc_key y)",
        f"svc_isl AS (SELECT z.*, SUM(fresh) OVER ({order} ROWS UNBOUNDED PRECEDING) "
        "AS isl FROM svc_mark z)",
        "svc_span AS (SELECT MIN(service_id) AS service_id, MIN(customer_id) AS customer_id, "
        "MIN(covered) AS covered, MIN(s) AS s, MAX(e) AS e, MAX(still_out) AS still_out, "
        f"{plan.d.sum('cgain')} AS cgain, {plan.d.mod(plan.d.sum('mix'), CHECKSUM_MODULUS)} "
        f"AS mix, {service_fields(plan)} "
        "FROM svc_isl GROUP BY isl)",
    ]


def _grace(plan: Plan) -> str:
    """``grace(s, g)``: when the grace period ends (``g``) for each distinct window start
    (``s``), both epoch seconds. The working-day calendar is worked out in Python for these
    few instants (one per scope change, not per service)."""
    basis = plan.doc.basis
    assert isinstance(basis, FixedPerDay)
    starts = (
        Impact.objects.filter(outage_id__in=plan.i.outage_ids)
        .values_list("window_start", flat=True)
        .distinct()
    )
    rows = {int(s.timestamp()): int(grace_end(s, basis).timestamp()) for s in starts}
    values = ", ".join(f"({s}, {g})" for s, g in sorted(rows.items())) or "(0, 0)"
    return f"grace(s, g) AS (VALUES {values})"


def _windows(plan: Plan) -> str:
    """``win``: the windows, cut at ``as_of``, with what the later stages need of their
    service, product and customer."""
    d, as_of = plan.d, plan.as_of
    covered = "1"
    if plan.i.covered_product_ids is not None:
        covered = f"CASE WHEN sv.product_id IN ({plan.ints(plan.i.covered_product_ids)}) "
        covered += "THEN 1 ELSE 0 END"
    # The SLA tier travels with the windows only when the policy credits one.
    tier, carried = ("", "") if plan.sla is None else (", sv.sla_tier AS tier", ", tier")
    raw = (
        f"win_raw AS (SELECT i.service_id, i.customer_id, {d.epoch('i.window_start')} AS s, "
        f"{d.epoch('i.window_end')} AS e, {covered} AS covered, sv.monthly_charge_cents AS "
        "charge, sv.product_id, sv.external_id AS service_ref, pr.name AS product_name, "
        f"cu.segment AS seg, CASE WHEN cu.is_former THEN 1 ELSE 0 END AS former{tier} "
        "FROM outages_impact i JOIN network_service sv ON sv.id = i.service_id "
        "JOIN network_product pr ON pr.id = sv.product_id "
        "JOIN network_customer cu ON cu.id = i.customer_id "
        f"WHERE i.outage_id IN ({plan.ints(plan.i.outage_ids)}) AND i.window_start < %s)"
    )
    still_out = f"CASE WHEN e IS NULL OR e > {as_of} THEN 1 ELSE 0 END"
    cut = f"CASE WHEN e IS NULL OR e > {as_of} THEN {as_of} ELSE e END"
    mix = f"service_id * 1000003 + s * 8191 + ({cut}) * 127 + {still_out}"
    mix = d.mod(mix, CHECKSUM_MODULUS)
    return (
        f"{raw},\nwin AS (SELECT service_id, customer_id, s, {cut} AS e, {still_out} AS "
        f"still_out, covered, {mix} AS mix, charge, product_id, service_ref, product_name, seg, "
        f"former{carried} FROM win_raw)"
    )


def _services(plan: Plan, source: str, seconds: str) -> str:
    """``svc``: per service its time out (``seconds`` summed over ``source``), its share of
    the customer's union (``cgain``), last end, whether still out and, for fixed-per-day, the
    days out after each spell's grace period. Grouped by customer first, so the rows stay in
    the customer order the sweep sorted them into."""
    d = plan.d
    late = join = ""
    if plan.basis.spell_days:
        late = f", {d.sum(plan.basis.spell_days)} AS spell_days"
    if plan.basis.needs_grace:
        days = d.div(f"x.e - grace.g + {DAY - 1}", DAY)
        late = f", {d.sum(f'CASE WHEN x.e > grace.g THEN {days} ELSE 0 END')} AS late_days"
        join = " JOIN grace ON grace.s = x.s"
    return (
        f"svc AS (SELECT x.customer_id, x.service_id, MIN(x.covered) AS covered, "
        f"{d.sum(seconds)} AS secs, {d.sum('x.cgain')} AS cgain, MAX(x.e) AS last_e, "
        f"MAX(x.still_out) AS still_out, {d.mod(d.sum('x.mix'), CHECKSUM_MODULUS)} AS mix"
        f"{late}, {service_fields(plan)} FROM {source} x{join} "
        "GROUP BY x.customer_id, x.service_id)"
    )
