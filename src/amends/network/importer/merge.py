"""Set-based checks and the merge from the staging table into the real table.

Every statement here works on the whole staged file at once; no Python loop over rows.
"""

from __future__ import annotations

from typing import Any

from amends.network.importer.reader import Problem
from amends.network.importer.specs import TARGET_NAMES, KindSpec, Reference
from amends.network.importer.staging import STAGE, Dialect

MAX_REPORTED = 50


def _target(name: str) -> str:
    return TARGET_NAMES.get(name, name)


def _fetch_problems(dialect: Dialect, sql: str) -> tuple[int, list[tuple[Any, ...]]]:
    """Run a query returning (line, value, …, total) rows, the total from ``count(*) OVER ()``."""
    with dialect.connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {MAX_REPORTED}")
        rows = cursor.fetchall()
    return (rows[0][-1] if rows else 0), rows


def duplicate_problems(dialect: Dialect, spec: KindSpec) -> tuple[list[Problem], int]:
    key = spec.key
    sql = f"""
        SELECT s.line, s.{key}, d.first_line, count(*) OVER ()
        FROM {STAGE} s
        JOIN (SELECT {key}, min(line) AS first_line FROM {STAGE}
              GROUP BY {key} HAVING count(*) > 1) d ON d.{key} = s.{key}
        WHERE s.line > d.first_line
        ORDER BY s.line"""
    total, rows = _fetch_problems(dialect, sql)
    return [
        Problem(line, key, f"{value!r} is repeated (first on line {first})")
        for line, value, first, _ in rows
    ], total


def reference_problems(
    dialect: Dialect, spec: KindSpec, ref: Reference
) -> tuple[list[Problem], int]:
    in_file = ""
    if ref.table == spec.table:  # a parent may be defined further down the same file
        in_file = f"AND NOT EXISTS (SELECT 1 FROM {STAGE} p WHERE p.{spec.key} = s.{ref.column})"
    sql = f"""
        SELECT s.line, s.{ref.column}, count(*) OVER ()
        FROM {STAGE} s LEFT JOIN {ref.table} r ON r.{ref.key} = s.{ref.column}
        WHERE s.{ref.column} IS NOT NULL AND r.id IS NULL {in_file}
        ORDER BY s.line"""
    total, rows = _fetch_problems(dialect, sql)
    return [
        Problem(line, ref.column, f"unknown {ref.label} {value!r}") for line, value, _ in rows
    ], total


def count_new(dialect: Dialect, spec: KindSpec) -> tuple[int, int]:
    """(rows staged, rows whose key is not stored yet)."""
    with dialect.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(t.id) FROM {STAGE} s "
            f"LEFT JOIN {spec.table} t ON t.{spec.key} = s.{spec.key}"
        )
        rows, existing = cursor.fetchone()
    return rows, rows - existing


def upsert(dialect: Dialect, spec: KindSpec, *, extra: dict[str, str] | None = None) -> int:
    """INSERT … SELECT … ON CONFLICT (key) DO UPDATE, touching only rows that differ.

    Returns the number of rows inserted or changed: rows that the ``DO UPDATE … WHERE`` skips
    because nothing differs are not counted (on both databases). ``extra`` adds constant
    columns for new rows only (e.g. a placeholder path).
    """
    extra = extra or {}
    targets = [_target(name) for name in spec.stored_columns] + [ref.fk for ref in spec.references]
    selects = [f"s.{name}" for name in spec.stored_columns]
    joins = []
    for position, ref in enumerate(spec.references):
        alias = f"r{position}"
        selects.append(f"{alias}.id")
        joins.append(f"LEFT JOIN {ref.table} {alias} ON {alias}.{ref.key} = s.{ref.column}")
    updates = [name for name in targets if name != _target(spec.key)]
    assignments = ", ".join(f"{name} = excluded.{name}" for name in updates)
    changed = " OR ".join(
        dialect.differ(f"{spec.table}.{name}", f"excluded.{name}") for name in updates
    )
    sql = (
        f"INSERT INTO {spec.table} ({', '.join(targets + list(extra))}) "
        f"SELECT {', '.join(selects + list(extra.values()))} FROM {STAGE} s {' '.join(joins)} "
        # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the join.
        f"WHERE true ON CONFLICT ({_target(spec.key)}) DO UPDATE SET {assignments} "
        f"WHERE {changed}"
    )
    with dialect.connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount)


ELEMENT_TREE = """
    WITH RECURSIVE tree(id, tree_path) AS (
        SELECT id, '/' || external_id || '/' FROM network_networkelement WHERE parent_id IS NULL
        UNION ALL
        SELECT e.id, tree.tree_path || e.external_id || '/'
        FROM network_networkelement e JOIN tree ON e.parent_id = tree.id
    )"""


def element_cycle_problems(dialect: Dialect) -> tuple[list[Problem], int]:
    """Staged elements that no longer hang from a root: their parents form a loop."""
    sql = f"""{ELEMENT_TREE}
        SELECT s.line, s.external_id, count(*) OVER ()
        FROM {STAGE} s JOIN network_networkelement e ON e.external_id = s.external_id
        WHERE e.id NOT IN (SELECT id FROM tree)
        ORDER BY s.line"""
    total, rows = _fetch_problems(dialect, sql)
    return [
        Problem(line, "parent_external_id", f"{value!r} is its own ancestor (a loop)")
        for line, value, _ in rows
    ], total


def rebuild_element_paths(dialect: Dialect) -> None:
    """Recompute every materialised path from the parent links (moves carry their subtrees)."""
    with dialect.connection.cursor() as cursor:
        cursor.execute(
            f"""{ELEMENT_TREE}
            UPDATE network_networkelement SET path = tree.tree_path FROM tree
            WHERE tree.id = network_networkelement.id
              AND network_networkelement.path <> tree.tree_path"""
        )
