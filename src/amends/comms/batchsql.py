"""SQL pieces for statements over one batch of rows (the dispatcher's hot path).

A batch is named by its ids. On PostgreSQL they travel as one array parameter: binding an
``IN (%s, …)`` list of 500 placeholders client-side costs psycopg milliseconds per statement,
more than the statement itself. Raw rows come back typed on PostgreSQL and loosely typed
(naive, or text) on SQLite, so the two converters below give both the same Python values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from django.db import connection


def id_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """A condition "``column`` is one of ``ids``" and its parameters."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN ({', '.join(['%s'] * len(ids)) or 'NULL'})", list(ids)


def id_text_pairs(pairs: Sequence[tuple[int, str]]) -> tuple[str, list[Any]]:
    """A relation ``done(id, value)`` of the pairs, to join an UPDATE to."""
    if connection.vendor == "postgresql":
        return (
            "unnest(%s::bigint[], %s::text[]) AS done(id, value)",
            [[pair[0] for pair in pairs], [pair[1] for pair in pairs]],
        )
    rows = ", ".join(["(%s, %s)"] * len(pairs))
    return (
        f"(SELECT column1 AS id, column2 AS value FROM (VALUES {rows})) AS done",  # noqa: S608
        [value for pair in pairs for value in pair],
    )


def moment(value: datetime | str) -> datetime:
    """A timestamp column's value: aware on PostgreSQL, naive UTC (or its text) on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def clock(value: time | str | None) -> time | None:
    """A time-of-day column's value: a time on PostgreSQL, text on SQLite."""
    if isinstance(value, str):
        return time.fromisoformat(value)
    return value
