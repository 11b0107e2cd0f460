"""What an approver needs to see before signing a calculation, read-only and set-based.

Totals and spread (mean, median, 95th percentile, largest), distribution by segment, product
and state, a histogram on a 1-2-5 dollar scale, the largest amounts, who is excluded and why,
and affected customers the calculation has no entitlement for. Every figure is one aggregate
query over the calculation's entitlements: nothing loops over customers in Python.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Avg, Count, Max, Q, QuerySet, Sum

from amends.core.errors import NotFound
from amends.core.models import AuditEntry
from amends.core.money import format_money
from amends.remedy.models import Calculation, Entitlement, Exclusion, Program

LARGEST = 10  # outliers listed
EXAMPLES_PER_PAGE = 20
# Histogram bucket lower bounds in cents: $0, $1, $2, $5, $10, … a 1-2-5 scale up to $5,000.
# $5 is a boundary on purpose: RG 277 lets amounts up to $5 go to charity in some cases.
BUCKETS = (0, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000)
EXCLUSION_LABELS = dict(Exclusion.choices)


@dataclass(frozen=True)
class Totals:
    affected: int
    eligible: int
    excluded: int
    total_cents: int
    mean_cents: int
    median_cents: int
    p95_cents: int
    max_cents: int
    non_monetary: int  # eligible customers with a non-monetary remedy


@dataclass(frozen=True)
class Group:
    """One row of a distribution: customers in the group, of them eligible, and their total."""

    key: str
    label: str
    customers: int
    eligible: int
    total_cents: int


@dataclass(frozen=True)
class Bucket:
    low_cents: int
    high_cents: int | None  # None: no upper bound
    customers: int
    total_cents: int
    currency: str

    @property
    def label(self) -> str:
        low = format_money(self.low_cents, self.currency, whole=True)
        if self.high_cents is None:
            return f"{low} or more"
        return f"{low} to under {format_money(self.high_cents, self.currency, whole=True)}"


@dataclass(frozen=True)
class Missing:
    """Affected customers with no entitlement in the calculation, by reason."""

    reason: str
    customers: int
    examples: list[str]  # customer external ids


# The parts of the amount owed, in the order they are applied (Components' fields).
COMPONENT_LABELS = (
    ("base_cents", "Basis, per affected service"),
    ("sla_cents", "SLA credits"),
    ("bonus_cents", "Goodwill"),
    ("interest_cents", "Interest on late refunds"),
    ("adjustment_cents", "Minimum, cap and rounding"),
    ("total_cents", "Owed to eligible customers"),
)


@dataclass(frozen=True)
class Components:
    """What the eligible customers' entitlements are made of, summed: the basis per service,
    SLA credits, goodwill, interest and the minimum/cap/rounding adjustments add up to the
    total (``Entitlement`` keeps each part, so these are sums, not a recalculation)."""

    base_cents: int = 0
    sla_cents: int = 0
    bonus_cents: int = 0
    interest_cents: int = 0
    adjustment_cents: int = 0
    total_cents: int = 0


@dataclass(frozen=True)
class Review:
    program: Program
    calculation: Calculation
    totals: Totals
    components: Components
    by_segment: list[Group]
    by_product: list[Group]
    by_state: list[Group]
    histogram: list[Bucket]
    largest: list[Entitlement]
    exclusions: list[Group]
    missing: list[Missing]


def program_by_reference(reference: str) -> Program:
    program = Program.objects.filter(reference=reference.strip().upper()).first()
    if program is None:
        raise NotFound(f"no program {reference}", field="reference")
    return program


def review(calculation: Calculation) -> Review:
    """Everything the review page, the API and the CLI show for one calculation."""
    program = calculation.program
    return Review(
        program=program,
        calculation=calculation,
        totals=totals(calculation),
        components=components(calculation),
        by_segment=by_segment(calculation),
        by_product=by_service_attribute(calculation, "product"),
        by_state=by_service_attribute(calculation, "state"),
        histogram=histogram(calculation),
        largest=largest(calculation),
        exclusions=exclusions(calculation),
        missing=missing(calculation),
    )


def _entitlements(calculation: Calculation) -> QuerySet[Entitlement]:
    return Entitlement.objects.filter(calculation=calculation)


def _nth_amount(calculation: Calculation, count: int, fraction: float) -> int:
    """The nearest-rank percentile of eligible amounts (rank ⌈fraction × count⌉)."""
    if count == 0:
        return 0
    rank = max(1, math.ceil(fraction * count))
    value = (
        _entitlements(calculation)
        .filter(eligible=True)
        .order_by("total_cents")
        .values_list("total_cents", flat=True)[rank - 1 : rank]
    )
    return int(value[0]) if value else 0


def totals(calculation: Calculation) -> Totals:
    eligible = Q(eligible=True)
    row = _entitlements(calculation).aggregate(
        affected=Count("id"),
        eligible_count=Count("id", filter=eligible),
        total=Sum("total_cents", filter=eligible),
        mean=Avg("total_cents", filter=eligible),
        max=Max("total_cents", filter=eligible),
        non_monetary=Count("id", filter=eligible & ~Q(non_monetary="")),
    )
    count = int(row["eligible_count"])
    return Totals(
        affected=int(row["affected"]),
        eligible=count,
        excluded=int(row["affected"]) - count,
        total_cents=int(row["total"] or 0),
        mean_cents=round(row["mean"] or 0),
        median_cents=_nth_amount(calculation, count, 0.5),
        p95_cents=_nth_amount(calculation, count, 0.95),
        max_cents=int(row["max"] or 0),
        non_monetary=int(row["non_monetary"]),
    )


def _groups(rows: list[Any], key: str, labels: dict[str, str]) -> list[Group]:
    return [
        Group(
            key=str(row[key] or ""),
            label=labels.get(row[key], str(row[key] or "—")),
            customers=int(row["customers"]),
            eligible=int(row["eligible_customers"]),
            total_cents=int(row["total"] or 0),
        )
        for row in rows
    ]


def components(calculation: Calculation | None) -> Components:
    """The parts of what the calculation owes its eligible customers (one aggregate)."""
    if calculation is None:
        return Components()
    fields = [field.name for field in dataclasses.fields(Components)]
    sums = Entitlement.objects.filter(calculation=calculation, eligible=True).aggregate(
        **{name: Sum(name) for name in fields}
    )
    return Components(**{name: int(sums[name] or 0) for name in fields})


def component_amounts(parts: Components, *, total: bool = True) -> list[tuple[str, str, int]]:
    """(field, label, cents) of each part, in ``COMPONENT_LABELS`` order, the total last
    (left out with ``total=False``, where the total is shown beside them)."""
    return [
        (name, label, getattr(parts, name))
        for name, label in COMPONENT_LABELS
        if total or name != "total_cents"
    ]


def by_segment(calculation: Calculation) -> list[Group]:
    from amends.network.models import Segment

    rows = list(
        _entitlements(calculation)
        .values("customer__segment")
        .annotate(
            customers=Count("id"),
            eligible_customers=Count("id", filter=Q(eligible=True)),
            total=Sum("total_cents", filter=Q(eligible=True)),
        )
        .order_by("-total", "customer__segment")
    )
    return _groups(rows, "customer__segment", dict(Segment.choices))


def by_service_attribute(calculation: Calculation, attribute: str) -> list[Group]:
    """Customers by the product (or state) of their affected services. A customer with
    services on two products is counted under each, with their whole amount: the rows do not
    add up to the total, and the page says so."""
    column = {"product": "p.name", "state": "s.state"}[attribute]
    outages = list(calculation.program.outages.values_list("id", flat=True))
    marks = ", ".join(["%s"] * len(outages)) or "NULL"
    sql = (
        "SELECT g.value, COUNT(*), "  # noqa: S608
        "SUM(CASE WHEN e.eligible THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN e.eligible THEN e.total_cents ELSE 0 END) "
        "FROM remedy_entitlement e JOIN ("
        f"  SELECT DISTINCT i.customer_id, {column} AS value FROM outages_impact i "
        "   JOIN network_service s ON s.id = i.service_id "
        "   JOIN network_product p ON p.id = s.product_id "
        f"  WHERE i.outage_id IN ({marks})"
        ") g ON g.customer_id = e.customer_id "
        "WHERE e.calculation_id = %s GROUP BY g.value ORDER BY 4 DESC, g.value"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*outages, calculation.pk])
        rows = cursor.fetchall()
    return [
        Group(str(value), str(value), int(n), int(eligible or 0), int(total or 0))
        for value, n, eligible, total in rows
    ]


def histogram(calculation: Calculation) -> list[Bucket]:
    """Eligible customers by amount, on the BUCKETS scale, empty buckets between the smallest
    and largest filled ones included (a gap is information)."""
    cases = " ".join(
        f"WHEN total_cents >= {low} THEN {index}"
        for index, low in reversed(list(enumerate(BUCKETS)))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE {cases} END AS bucket, COUNT(*), SUM(total_cents) "  # noqa: S608
            "FROM remedy_entitlement WHERE calculation_id = %s AND eligible = %s "
            "GROUP BY 1 ORDER BY 1",
            [calculation.pk, True],
        )
        filled = {int(index): (int(n), int(total)) for index, n, total in cursor.fetchall()}
    if not filled:
        return []
    currency = calculation.policy_version.currency
    currency = calculation.policy_version.currency
    buckets = []
    for index in range(min(filled), max(filled) + 1):
        n, total = filled.get(index, (0, 0))
        high = BUCKETS[index + 1] if index + 1 < len(BUCKETS) else None
        buckets.append(Bucket(BUCKETS[index], high, n, total, currency))
    return buckets


def largest(calculation: Calculation, limit: int = LARGEST) -> list[Entitlement]:
    return list(
        _entitlements(calculation)
        .filter(eligible=True)
        .select_related("customer")
        .order_by("-total_cents", "customer__external_id")[:limit]
    )


def exclusions(calculation: Calculation) -> list[Group]:
    """Customers with no entitlement, counted by the reason the calculation gave."""
    rows = (
        _entitlements(calculation)
        .filter(eligible=False)
        .values_list("exclusion")
        .annotate(customers=Count("id"))
        .order_by("-customers", "exclusion")
    )
    return [
        Group(key, EXCLUSION_LABELS.get(key, key), int(customers), 0, 0) for key, customers in rows
    ]


def excluded_page(calculation: Calculation, exclusion: str, page: int | str | None) -> Page[Any]:
    """A page of examples of customers excluded for one reason (all reasons when empty)."""
    query = _entitlements(calculation).filter(eligible=False).select_related("customer")
    if exclusion:
        query = query.filter(exclusion=exclusion)
    return Paginator(query.order_by("customer__external_id"), EXAMPLES_PER_PAGE).get_page(page)


_MISSING_REASONS = {
    "later": "Affected after this calculation's as-of time: recalculate to include them",
    "absent": "Affected before the as-of time but not in the calculation: recalculate",
}


def missing(calculation: Calculation, examples: int = 5) -> list[Missing]:
    """Customers in the program's outages' impact with no entitlement row in this calculation:
    an anti-join (NOT EXISTS), so it stays linear for a national outage."""
    outages = list(calculation.program.outages.values_list("id", flat=True))
    marks = ", ".join(["%s"] * len(outages)) or "NULL"
    as_of = connection.ops.adapt_datetimefield_value(calculation.as_of)
    sql = (
        "SELECT CASE WHEN MIN(i.window_start) > %s THEN 'later' ELSE 'absent' END AS reason, "  # noqa: S608
        "c.external_id FROM outages_impact i JOIN network_customer c ON c.id = i.customer_id "
        f"WHERE i.outage_id IN ({marks}) AND NOT EXISTS (SELECT 1 FROM remedy_entitlement e "
        "WHERE e.calculation_id = %s AND e.customer_id = i.customer_id) "
        "GROUP BY i.customer_id, c.external_id"
    )
    params = [as_of, *outages, calculation.pk]
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT reason, COUNT(*) FROM ({sql}) m GROUP BY reason ORDER BY reason",  # noqa: S608
            params,
        )
        for reason, customers in cursor.fetchall():
            cursor.execute(
                f"SELECT external_id FROM ({sql}) m WHERE reason = %s "  # noqa: S608
                f"ORDER BY external_id LIMIT {int(examples)}",
                [*params, reason],
            )
            ids = [row[0] for row in cursor.fetchall()]
            found.append(Missing(_MISSING_REASONS[reason], int(customers), ids))
    return found


def latest_rejection(program: Program) -> AuditEntry | None:
    """The last time an approver sent the program back, with their reasons (in ``after``)."""
    return (
        AuditEntry.objects.filter(
            object_type=program._meta.label_lower,
            object_id=str(program.pk),
            action="remedy.program_reject",
        )
        .order_by("-seq")
        .first()
    )
