"""The staging table an import streams into, and the SQL dialect differences around it.

PostgreSQL gets a temporary table filled with COPY; SQLite a temporary table filled with
batched executemany. Either way the table lives inside the import's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from django.db.backends.base.base import BaseDatabaseWrapper

from amends.core.db import allow_bulk_memory
from amends.network.importer.specs import KindSpec, SqlType

STAGE = "amends_import_stage"

_TYPES: dict[str, dict[SqlType, str]] = {
    "postgresql": {
        "text": "text",
        "bigint": "bigint",
        "double": "double precision",
        "boolean": "boolean",
        "time": "time",
    },
    "sqlite": {
        "text": "text",
        "bigint": "integer",
        "double": "real",
        "boolean": "integer",
        "time": "text",
    },
}


class RowSink(Protocol):
    def add(self, row: tuple[object, ...]) -> None: ...


class Dialect:
    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.vendor = connection.vendor
        if self.vendor not in _TYPES:
            raise RuntimeError(f"imports do not support {self.vendor}")

    def differ(self, left: str, right: str) -> str:
        """Null-safe inequality."""
        op = "IS DISTINCT FROM" if self.vendor == "postgresql" else "IS NOT"
        return f"{left} {op} {right}"

    def same(self, left: str, right: str) -> str:
        op = "IS NOT DISTINCT FROM" if self.vendor == "postgresql" else "IS"
        return f"{left} {op} {right}"

    def create_stage(self, spec: KindSpec) -> None:
        allow_bulk_memory()  # the checks and the merge hash-join the whole file
        types = _TYPES[self.vendor]
        columns = ", ".join(f"{name} {types[sql_type]}" for name, sql_type in spec.staging_columns)
        suffix = " ON COMMIT DROP" if self.vendor == "postgresql" else ""
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"CREATE TEMP TABLE {STAGE} (line integer, {columns}){suffix}")

    @contextmanager
    def loader(self, spec: KindSpec) -> Iterator[RowSink]:
        names = ", ".join(["line"] + [name for name, _ in spec.staging_columns])
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.copy(f"COPY {STAGE} ({names}) FROM STDIN") as copy:
                    yield _CopySink(copy)
                cursor.execute(f"ANALYZE {STAGE}")
            else:
                marks = ", ".join(["%s"] * (len(spec.staging_columns) + 1))
                sink = _BatchSink(cursor, f"INSERT INTO {STAGE} ({names}) VALUES ({marks})")
                yield sink
                sink.flush()

    def drop_stage(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")


class _CopySink:
    def __init__(self, copy: Any) -> None:
        self.write_row = copy.write_row

    def add(self, row: tuple[object, ...]) -> None:
        self.write_row(row)


class _BatchSink:
    BATCH = 5000

    def __init__(self, cursor: Any, sql: str) -> None:
        self.cursor, self.sql = cursor, sql
        self.rows: list[tuple[object, ...]] = []

    def add(self, row: tuple[object, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.cursor.executemany(self.sql, self.rows)
            self.rows = []
