"""The entitlement calculation: one INSERT … SELECT from the impact of a program's outages.

Stages (CTEs), all set-based, the same on SQLite and PostgreSQL:

1. ``windows``: each impact window cut at ``as_of`` (a window still open counts to it), with
   its service's charge and product and its customer's segment; a sweep per customer over
   their covered services' windows, so that the union is counted once (for the minimum-duration
   rule and the time shown); a service's windows from several outages merged (gaps and
   islands); per service its merged seconds.
2. ``amounts``: each service's basis amount (integer units of 1/D cent), SLA credit (units of
   1/100 cent, when the policy has ``sla_credits``) and explanation line; per customer their
   sum, goodwill, minimum and cap, the one rounding, interest to ``as_of``, the exclusion
   reason and the explanation, inserted as Entitlement rows in customer order.

Constant numbers (ids, cents, seconds) are validated ints written into the SQL; text (the
currency symbol, non-monetary remedies) and ``as_of`` travel as parameters.

Each entitlement also keeps ``inputs_checksum``, an order-independent checksum of what its
amount was computed from (windows, charges, products, segment, former flag): summed over a
calculation it feeds the calculation's ``inputs_digest``.
"""

# SQL assembled from fixed fragments, validated ints and literal segment names; every text
# value is a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from amends.core.db import allow_bulk_memory
from amends.core.money import money_prefix
from amends.remedy.calculation import amounts, windows
from amends.remedy.calculation.basis import basis_sql
from amends.remedy.calculation.dialect import SYMBOL, Dialect
from amends.remedy.calculation.sla import SLA_DENOMINATOR, sla_sql
from amends.remedy.policy import PolicyDocument


@dataclass(frozen=True)
class CalculationInputs:
    calculation_id: int
    outage_ids: list[int]
    as_of: datetime
    document: PolicyDocument
    interest_rate: Decimal | None  # % a year; None: the policy pays no interest
    excluded_customer_ids: list[int]
    covered_product_ids: list[int] | None  # None: every product
    remedy_product_ids: list[list[int] | None]  # per non-monetary remedy; None: any product


@dataclass(frozen=True)
class Totals:
    affected: int
    eligible: int
    total_cents: int
    inputs_checksum: int


def insert_entitlements(inputs: CalculationInputs) -> Totals:
    """Write one Entitlement per customer with a window before ``as_of``; return the totals."""
    plan = Plan(inputs, Dialect(connection.vendor))
    sql, params = plan.statement()
    allow_bulk_memory()
    with connection.cursor() as cursor:
        if plan.d.postgres:
            # The planner cannot estimate how many rows grouped CTEs yield (it assumes 200)
            # and would join whatever follows them in nested loops; and compiling this
            # one-off statement's expressions (JIT) costs more than it saves.
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(sql + _RETURNING, params)
        else:
            cursor.execute(sql, params)
            cursor.execute(_TOTALS, [inputs.calculation_id])
        row = cursor.fetchone()
    return Totals(*(int(value or 0) for value in row))


_SUMS = (
    "COUNT(*), SUM(CASE WHEN eligible THEN 1 ELSE 0 END), SUM(total_cents), SUM(inputs_checksum)"
)
# PostgreSQL sums the rows as it inserts them; SQLite reads them back through the index.
_RETURNING = " RETURNING eligible, total_cents, inputs_checksum) SELECT " + _SUMS + " FROM inserted"
_TOTALS = "SELECT " + _SUMS + " FROM remedy_entitlement WHERE calculation_id = %s"


class Plan:
    """What every stage needs: the inputs, the dialect, the basis's and SLA credits' SQL, and
    ``denominator``: a customer's exact amount is in units of 1/denominator cent (the basis's
    own, or a multiple of it that SLA credits' 1/100 cent also divides)."""

    def __init__(self, inputs: CalculationInputs, dialect: Dialect) -> None:
        self.i = inputs
        self.doc = inputs.document
        self.d = dialect
        self.as_of = int(inputs.as_of.timestamp())
        self.basis = basis_sql(self.doc, dialect, SYMBOL)
        self.sla = sla_sql(self.doc, dialect, SYMBOL)
        self.denominator = self.basis.denominator
        if self.sla is not None:
            self.denominator = math.lcm(self.basis.denominator, SLA_DENOMINATOR)
        self.remedies = range(len(inputs.remedy_product_ids))

    def statement(self) -> tuple[str, list[Any]]:
        params: list[Any] = [money_prefix(self.doc.currency)]
        params += [remedy.description for remedy in self.doc.non_monetary]
        params.append(connection.ops.adapt_datetimefield_value(self.i.as_of))
        names = "".join(f", CAST(%s AS TEXT) AS nm{n}" for n in self.remedies)
        ctes = [f"p AS (SELECT CAST(%s AS TEXT) AS sym{names})"]
        ctes += windows.ctes(self)
        ctes += amounts.ctes(self)
        insert = amounts.insert(self)
        if self.d.postgres:
            return "WITH " + ",\n".join(ctes) + ",\ninserted AS (" + insert, params
        return "WITH " + ",\n".join(ctes) + "\n" + insert, params

    def ints(self, values: list[int]) -> str:
        return ", ".join(str(int(v)) for v in values) or "NULL"
