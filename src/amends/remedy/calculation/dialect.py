"""The few SQL expressions that differ between SQLite and PostgreSQL, for the calculation.

All money arithmetic is exact integer arithmetic: amounts are kept in units of 1/D cent (D
fixed by the basis, e.g. 2,628,000 for pro-rata: 730 h × 3,600 s), so every product and sum
is a whole number. Both databases compute in 64-bit integers (PostgreSQL ``bigint``: its sums
come back as ``numeric`` and are cast back, which keeps the faster integer operators and
raises an error rather than losing a digit should a sum ever pass 9.2 × 10^18; the policy's
bounds keep real amounts more than a thousand times below that). Values are never negative
here, so ``/`` (truncation) is the floor on both.
"""

from __future__ import annotations

from amends.core.money import Rounding

# The statement's text parameters live in its first CTE, ``p``; expressions read them through
# uncorrelated scalar subqueries, which both databases evaluate once, not per row.
SYMBOL = "(SELECT sym FROM p)"


def remedy_name(n: int) -> str:
    """The description of the policy's n-th non-monetary remedy."""
    return f"(SELECT nm{int(n)} FROM p)"  # noqa: S608


class Dialect:
    def __init__(self, vendor: str) -> None:
        self.postgres = vendor == "postgresql"

    def epoch(self, column: str) -> str:
        """Whole seconds since 1970 (fractions dropped, as ``int(dt.timestamp())`` does)."""
        if self.postgres:
            # date_part gives a double (EXTRACT a slower numeric); exact to the microsecond.
            return f"CAST(FLOOR(date_part('epoch', {column})) AS BIGINT)"
        return f"CAST(strftime('%%s', {column}) AS INTEGER)"

    def timestamp(self, epoch: str) -> str:
        if self.postgres:
            return f"TO_TIMESTAMP({epoch})"
        return f"datetime({epoch}, 'unixepoch')"

    def div(self, a: str, b: str | int) -> str:
        return f"(({a}) / ({b}))"

    def mod(self, a: str, b: str | int) -> str:
        return f"(({a}) %% ({b}))"

    def sum(self, expr: str, over: str = "") -> str:
        """SUM of integers as an integer (``over``: a window clause, e.g. "OVER w")."""
        total = f"SUM({expr}) {over}".strip()
        return f"CAST({total} AS BIGINT)" if self.postgres else total

    def least(self, *values: str) -> str:
        return f"{'LEAST' if self.postgres else 'MIN'}({', '.join(values)})"

    def greatest(self, *values: str) -> str:
        return f"{'GREATEST' if self.postgres else 'MAX'}({', '.join(values)})"

    def text(self, value: str) -> str:
        return f"CAST({value} AS TEXT)"

    def money(self, cents: str, symbol: str) -> str:
        """``format_money`` in the console's locale: 123456 → "$1,234.56" (``symbol``, an SQL
        expression, is ``money_prefix``: "$", "GBP\u00a0")."""
        if self.postgres:
            return f"({symbol} || TO_CHAR({cents}, 'FM999,999,999,999,990\".\"00'))"
        return f"({symbol} || printf('%%,d.%%02d', ({cents}) / 100, ({cents}) %% 100))"

    def duration(self, seconds: str) -> str:
        """54300 → "15 h 05 min" (seconds dropped)."""
        if self.postgres:
            hours = f"CAST({self.div(seconds, 3600)} AS TEXT)"
            minutes = f"LPAD(CAST({self.div(self.mod(seconds, 3600), 60)} AS TEXT), 2, '0')"
            return f"({hours} || ' h ' || {minutes} || ' min')"
        return f"printf('%%d h %%02d min', ({seconds}) / 3600, ({seconds}) %% 3600 / 60)"

    def round(self, units: str, denominator: int, rule: Rounding) -> str:
        """``round_cents(units / denominator, rule)`` for units ≥ 0, in integers."""
        if denominator == 1:
            return units
        if rule == Rounding.DOWN:
            return self.div(units, denominator)
        if rule == Rounding.UP:
            return self.div(f"{units} + {denominator - 1}", denominator)
        if rule == Rounding.HALF_UP:
            return self.div(f"2 * ({units}) + {denominator}", 2 * denominator)
        # Half to even: round half up, then step back one where exactly half landed on odd.
        floor = self.div(units, denominator)
        twice_rest = f"2 * {self.mod(units, denominator)}"
        return (
            f"(CASE WHEN {twice_rest} > {denominator} THEN {floor} + 1 "
            f"WHEN {twice_rest} < {denominator} THEN {floor} "
            f"ELSE {floor} + {self.mod(floor, 2)} END)"
        )
