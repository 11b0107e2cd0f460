"""Small database helpers shared by the set-based bulk paths."""

from __future__ import annotations

from django.db import connection

BULK_WORK_MEM = "256MB"


def allow_bulk_memory() -> None:
    """Let the current transaction's hash joins and aggregates over millions of rows run in
    memory (PostgreSQL's default work_mem of 4 MB spills them to disk). No-op on SQLite."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
