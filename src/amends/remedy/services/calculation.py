"""Calculating a program: one new Calculation version per run, with one Entitlement per
affected customer, and the difference between two versions.

The set-based SQL lives in ``amends.remedy.calculation``; this module checks the program's
state, numbers the version, records the digest of the inputs, sums the totals and writes the
audit entry, all in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.network.models import Customer, Product
from amends.remedy.calculation import CalculationInputs, Totals, insert_entitlements
from amends.remedy.models import Calculation, Program, ProgramStatus
from amends.remedy.policy import PolicyDocument, default_interest_rate, validate_policy
from amends.remedy.services.programs import require_writer

# Recalculating an approved program makes a new version that needs approval again; once
# payments have started the amounts are fixed.
CALCULABLE = (
    ProgramStatus.DRAFT,
    ProgramStatus.CALCULATED,
    ProgramStatus.IN_REVIEW,
    ProgramStatus.APPROVED,
)


@dataclass(frozen=True)
class EntitlementChange:
    """One customer whose entitlement differs between two calculations (None: not there)."""

    customer_id: int
    external_id: str
    name: str
    old_cents: int | None
    new_cents: int | None
    old_exclusion: str | None
    new_exclusion: str | None

    @property
    def change_cents(self) -> int:
        return (self.new_cents or 0) - (self.old_cents or 0)


@dataclass(frozen=True)
class CalculationDiff:
    """What changed from ``old`` to ``new``: customers only in new (added), only in old
    (removed), in both with another amount or exclusion (changed), the change in the total,
    and one page of the changes, largest first."""

    old: Calculation
    new: Calculation
    added: int
    removed: int
    changed: int
    unchanged: int
    total_change_cents: int
    largest: list[EntitlementChange]
    offset: int
    limit: int


def calculate(actor: audit.Actor, program: Program, as_of: datetime | None = None) -> Calculation:
    """Apply the program's policy version to its outages' impact as of ``as_of`` (default now;
    windows still open count to it): a new Calculation version, status → calculated, audited."""
    require_writer(actor)
    now = timezone.now()
    as_of = as_of or now
    if timezone.is_naive(as_of):
        raise AmendsError("needs a time zone", field="as_of")
    if as_of > now:
        raise AmendsError("cannot be in the future", field="as_of")
    started = time.perf_counter()
    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=program.pk)
        if program.status not in CALCULABLE:
            raise Conflict(
                f"program {program.reference} is {program.get_status_display().lower()}; "
                "its amounts can no longer be recalculated",
                field="status",
            )
        version = program.policy_version
        doc = validate_policy(version.document)
        inputs = _inputs(program, doc, as_of)
        calculation = Calculation.objects.create(
            program=program,
            version=_next_version(program),
            policy_version=version,
            as_of=as_of,
            calculated_by=audit.actor_name(actor),
            interest_rate=inputs.interest_rate,
        )
        inputs = replace(inputs, calculation_id=calculation.pk)
        totals = insert_entitlements(inputs)
        _store_totals(calculation, inputs, totals, started)
        before_status = program.status
        program.status = ProgramStatus.CALCULATED
        program.save(update_fields=["status", "updated_at"])
        audit.record(
            actor,
            "remedy.calculate",
            calculation,
            before={"status": before_status},
            after={
                "program": program.reference,
                "version": calculation.version,
                "policy_version": version.pk,
                "as_of": as_of,
                "inputs_digest": calculation.inputs_digest,
                "affected_customers": calculation.affected_customers,
                "eligible_customers": calculation.eligible_customers,
                "total_cents": calculation.total_cents,
            },
        )
    return calculation


def _next_version(program: Program) -> int:
    last = program.calculations.order_by("-version").values_list("version", flat=True).first()
    return (last or 0) + 1


def _inputs(program: Program, doc: PolicyDocument, as_of: datetime) -> CalculationInputs:
    """Everything the SQL needs, with external ids and product codes turned into ids."""
    rules = doc.eligibility
    codes = set(rules.products) | {c for remedy in doc.non_monetary for c in remedy.products}
    product_ids = dict(Product.objects.filter(code__in=codes).values_list("code", "id"))

    def products(named: list[str]) -> list[int] | None:
        return [product_ids[c] for c in named if c in product_ids] if named else None

    interest_rate: Decimal | None = None
    if doc.interest is not None:
        interest_rate = doc.interest.annual_rate_percent
        if interest_rate is None:
            interest_rate = default_interest_rate()
    excluded = Customer.objects.filter(external_id__in=rules.exclude_customers)
    return CalculationInputs(
        calculation_id=0,
        outage_ids=sorted(program.outages.values_list("id", flat=True)),
        as_of=as_of,
        document=doc,
        interest_rate=interest_rate,
        excluded_customer_ids=sorted(excluded.values_list("id", flat=True)),
        covered_product_ids=products(rules.products),
        remedy_product_ids=[products(remedy.products) for remedy in doc.non_monetary],
    )


def _digest(inputs: CalculationInputs, totals: Totals) -> str:
    """SHA-256 of the policy, ``as_of``, the outages, the ids the policy's names resolved to
    and the entitlements' input checksums (windows, charges, products, segments)."""
    summary = {
        "document": inputs.document.as_json(),
        "as_of": int(inputs.as_of.timestamp()),
        "outages": inputs.outage_ids,
        "interest_rate": str(inputs.interest_rate),
        "excluded": inputs.excluded_customer_ids,
        "covered": inputs.covered_product_ids,
        "remedies": inputs.remedy_product_ids,
        "customers": totals.affected,
        "checksum": totals.inputs_checksum,
    }
    canonical = json.dumps(summary, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _store_totals(
    calculation: Calculation, inputs: CalculationInputs, totals: Totals, started: float
) -> None:
    calculation.affected_customers = totals.affected
    calculation.eligible_customers = totals.eligible
    calculation.total_cents = totals.total_cents
    calculation.inputs_digest = _digest(inputs, totals)
    calculation.duration_ms = int((time.perf_counter() - started) * 1000)
    calculation.save(
        update_fields=[
            "affected_customers",
            "eligible_customers",
            "total_cents",
            "inputs_digest",
            "duration_ms",
        ]
    )


# --- Differences between two versions -------------------------------------------------------

_DIFF_SQL = """
WITH both_sides AS (
  SELECT COALESCE(n.customer_id, o.customer_id) AS customer_id,
         o.total_cents AS old_cents, n.total_cents AS new_cents,
         o.exclusion AS old_exclusion, n.exclusion AS new_exclusion,
         CASE WHEN o.customer_id IS NULL THEN 'added'
              WHEN n.customer_id IS NULL THEN 'removed'
              WHEN o.total_cents <> n.total_cents OR o.exclusion <> n.exclusion THEN 'changed'
              ELSE 'same' END AS kind
  FROM (SELECT customer_id, total_cents, exclusion FROM remedy_entitlement
        WHERE calculation_id = %s) o
  FULL OUTER JOIN (SELECT customer_id, total_cents, exclusion FROM remedy_entitlement
        WHERE calculation_id = %s) n ON n.customer_id = o.customer_id
)
"""
_COUNTS_SQL = "SELECT kind, COUNT(*) FROM both_sides GROUP BY kind"
_PAGE_SQL = """
SELECT b.customer_id, c.external_id, c.name, b.old_cents, b.new_cents,
       b.old_exclusion, b.new_exclusion
FROM both_sides b JOIN network_customer c ON c.id = b.customer_id
WHERE b.kind <> 'same'
ORDER BY ABS(COALESCE(b.new_cents, 0) - COALESCE(b.old_cents, 0)) DESC, c.external_id
LIMIT %s OFFSET %s
"""


def calculation_diff(
    old: Calculation, new: Calculation, *, limit: int = 50, offset: int = 0
) -> CalculationDiff:
    """Compare two calculations of the same program: counts, the change in the total, and the
    page ``offset``..``offset + limit`` of changed customers, largest change first."""
    if old.program_id != new.program_id:
        raise AmendsError("both calculations must belong to the same program", field="versions")
    if not 1 <= limit <= 500:
        raise AmendsError("must be from 1 to 500", field="limit")
    if offset < 0:
        raise AmendsError("cannot be negative", field="offset")
    params = [old.pk, new.pk]
    with connection.cursor() as cursor:
        cursor.execute(_DIFF_SQL + _COUNTS_SQL, params)
        counts = {kind: int(n) for kind, n in cursor.fetchall()}
        cursor.execute(_DIFF_SQL + _PAGE_SQL, [*params, limit, offset])
        rows = cursor.fetchall()
    return CalculationDiff(
        old=old,
        new=new,
        added=counts.get("added", 0),
        removed=counts.get("removed", 0),
        changed=counts.get("changed", 0),
        unchanged=counts.get("same", 0),
        total_change_cents=new.total_cents - old.total_cents,
        largest=[EntitlementChange(*row) for row in rows],
        offset=offset,
        limit=limit,
    )
