"""The staging table an import streams into, and the SQL dialect differences around it.

PostgreSQL gets a temporary table filled with ``COPY … (FORMAT csv)``; SQLite a temporary table
filled with batched executemany. Either way the table lives inside the import's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from django.db.backends.base.base import BaseDatabaseWrapper

from amends.core.db import BULK_WORK_MEM, allow_bulk_memory
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


def csv_value(value: object) -> str:
    """A value as PostgreSQL's CSV input reads it back: NULL is an empty unquoted field, text is
    always quoted (so an empty string stays one), booleans are words, numbers as Python writes
    them (floats round-trip exactly)."""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RowSink(Protocol):
    rows: int  # how many were staged, once the loader has closed

    def add(self, row: tuple[object, ...]) -> None:
        """One parsed row: line, the spec's columns in spec order, then its derived columns."""

    def add_text(self, text: str) -> None:
        """Lines ready for COPY in the loader's column order (only where ``copies_csv``)."""


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

    @property
    def copies_csv(self) -> bool:
        """Whether the loader takes ready CSV lines (the fast path), not just parsed rows."""
        return self.vendor == "postgresql"

    def create_stage(self, spec: KindSpec) -> None:
        allow_bulk_memory()  # the checks and the merge hash-join the whole file
        types = _TYPES[self.vendor]
        columns = ", ".join(f"{name} {types[sql_type]}" for name, sql_type in spec.staging_columns)
        suffix = " ON COMMIT DROP" if self.vendor == "postgresql" else ""
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"CREATE TEMP TABLE {STAGE} (line integer, {columns}){suffix}")

    @contextmanager
    def loader(
        self, spec: KindSpec, columns: Sequence[str] | None = None, *, analyze: bool = True
    ) -> Iterator[RowSink]:
        """A sink for the staging table. ``columns``: the spec columns the file has, in the
        order its text lines carry them (default: all of them, in spec order). ``analyze``:
        gather the staged rows' statistics at the end (else see ``analyze_stage``)."""
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                sink = _CsvCopySink(spec, columns or [c.name for c in spec.columns])
                with cursor.copy(sink.statement) as copy:
                    sink.copy = copy
                    yield sink
                    sink.flush()
                sink.rows = cursor.rowcount
            else:
                names = ", ".join(["line"] + [name for name, _ in spec.staging_columns])
                marks = ", ".join(["%s"] * (len(spec.staging_columns) + 1))
                batch = _BatchSink(cursor, f"INSERT INTO {STAGE} ({names}) VALUES ({marks})")
                yield batch
                batch.flush()
        if analyze:
            self.analyze_stage(spec)

    def analyze_stage(self, spec: KindSpec) -> None:
        """Statistics for what the checks and the merge join and group on (PostgreSQL plans
        them by these; SQLite needs none for its temporary table)."""
        if self.vendor != "postgresql":
            return
        joined = [spec.key, *(ref.column for ref in spec.references)]
        with self.connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {STAGE} ({', '.join(joined)})")

    def drop_stage(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")

    def lock_for_merge(self, table: str, referenced: Sequence[str]) -> None:
        """Hold the tables still until commit: other writers of ``table`` wait (readers do not),
        and no referenced row can be deleted between the reference check and the commit (the
        importer checks references itself; see network.models)."""
        if self.vendor != "postgresql":
            return  # SQLite's write transaction already excludes every other writer
        others = sorted(set(referenced) - {table})
        with self.connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            if others:
                cursor.execute(f"LOCK TABLE {', '.join(others)} IN SHARE MODE")

    def count(self, table: str) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            return int(cursor.fetchone()[0])

    @contextmanager
    def indexes_built_after(self, table: str) -> Iterator[None]:
        """Drop ``table``'s secondary indexes, run the body (a bulk insert), then build them
        again from their saved definitions: sorting once is far cheaper than maintaining each
        index row by row. The names and definitions come back identical, so migrations never
        notice; if the body fails, the transaction's rollback restores them. On PostgreSQL the
        table stays locked against readers until commit, so this is for loads into a table that
        is empty or small next to the file."""
        indexes = self._secondary_indexes(table)
        with self.connection.cursor() as cursor:
            for drop, _ in indexes:
                cursor.execute(drop)
            yield
            if self.vendor == "postgresql":
                # PostgreSQL builds no index while deferred foreign-key checks of the table are
                # queued (an element's parent): run them now, then defer again.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                cursor.execute(f"SET LOCAL maintenance_work_mem = '{BULK_WORK_MEM}'")
            for _, create in indexes:
                cursor.execute(create)
            if self.vendor == "postgresql":
                cursor.execute(f"ANALYZE {table}")

    def _secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        """(drop, create) statements of the table's indexes but its primary key, leaving out
        any index another table's foreign key depends on."""
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            if self.vendor != "postgresql":
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL ORDER BY name",
                    [table],
                )
                return [(f"DROP INDEX {quote(name)}", sql) for name, sql in cursor.fetchall()]
            cursor.execute(_PG_SECONDARY_INDEXES, [table])
            return [
                (f"DROP INDEX {index}", definition)
                if constraint is None
                else (
                    f"ALTER TABLE {table} DROP CONSTRAINT {quote(constraint)}",
                    f"ALTER TABLE {table} ADD CONSTRAINT {quote(constraint)} {constraint_def}",
                )
                for index, definition, constraint, constraint_def in cursor.fetchall()
            ]


_PG_SECONDARY_INDEXES = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
           c.conname, pg_get_constraintdef(c.oid)
    FROM pg_index i
    LEFT JOIN pg_constraint c
           ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype <> 'f'
    WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint fk
                      WHERE fk.contype = 'f' AND fk.conindid = i.indexrelid)
    ORDER BY 1"""


class _CsvCopySink:
    """Writes parsed rows and ready lines into one ``COPY … (FORMAT csv)``, in blocks."""

    FLUSH_AT = 1 << 20  # characters

    def __init__(self, spec: KindSpec, columns: Sequence[str]) -> None:
        position = {column.name: i + 1 for i, column in enumerate(spec.columns)}
        derived = range(len(spec.columns) + 1, len(spec.columns) + 1 + len(spec.derived))
        self.positions = [0, *(position[name] for name in columns), *derived]
        names = ["line", *columns, *(d.name for d in spec.derived)]
        self.statement = f"COPY {STAGE} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
        self.copy: Any = None
        self.pending: list[str] = []
        self.size = 0
        self.rows = 0  # known once the COPY has ended

    def add(self, row: tuple[object, ...]) -> None:
        self.add_text(",".join(csv_value(row[i]) for i in self.positions) + "\n")

    def add_text(self, text: str) -> None:
        self.pending.append(text)
        self.size += len(text)
        if self.size >= self.FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.copy.write("".join(self.pending))
            self.pending, self.size = [], 0


class _BatchSink:
    BATCH = 5000

    def __init__(self, cursor: Any, sql: str) -> None:
        self.cursor, self.sql = cursor, sql
        self.batch: list[tuple[object, ...]] = []
        self.rows = 0

    def add(self, row: tuple[object, ...]) -> None:
        self.batch.append(row)
        self.rows += 1
        if len(self.batch) >= self.BATCH:
            self.flush()

    def add_text(self, text: str) -> None:
        raise TypeError("SQLite takes parsed rows only (Dialect.copies_csv is false)")

    def flush(self) -> None:
        if self.batch:
            self.cursor.executemany(self.sql, self.batch)
            self.batch = []
