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


def _literal(value: object) -> str:
    """A column default as SQL (both databases read TRUE and FALSE)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _staged_values(spec: KindSpec) -> tuple[list[str], list[str], str, str]:
    """Target columns, the SQL giving each from the staged row, the joins that resolve
    references to ids and the condition that every reference did resolve (a merge never writes
    a dangling one). NULL in a staged column means "empty in the file" (the fast path leaves it
    so), which becomes the column's default here."""
    targets, values = [], []
    for column in spec.columns:
        if column.name in spec.reference_columns:
            continue
        targets.append(_target(column.name))
        staged = f"s.{column.name}"
        if column.required or column.default is None:
            values.append(staged)
        else:
            values.append(f"coalesce({staged}, {_literal(column.default)})")
    for derived in spec.derived:
        targets.append(derived.name)
        values.append(f"s.{derived.name}")
    joins, resolved = [], ["TRUE"]
    for position, ref in enumerate(spec.references):
        alias = f"r{position}"
        targets.append(ref.fk)
        values.append(f"{alias}.id")
        joins.append(f"LEFT JOIN {ref.table} {alias} ON {alias}.{ref.key} = s.{ref.column}")
        if ref.table != spec.table:  # a parent in the same file is linked after the insert
            resolved.append(f"(s.{ref.column} IS NULL OR {alias}.id IS NOT NULL)")
    return targets, values, " ".join(joins), " AND ".join(resolved)


def update_changed(dialect: Dialect, spec: KindSpec) -> int:
    """Update the stored rows whose staged row differs in any column; return how many."""
    targets, values, joins, resolved = _staged_values(spec)
    key = _target(spec.key)
    pairs = [(t, v) for t, v in zip(targets, values, strict=True) if t != key]
    assignments = ", ".join(f"{t} = {v}" for t, v in pairs)
    changed = " OR ".join(dialect.differ(f"{spec.table}.{t}", v) for t, v in pairs)
    sql = (
        f"UPDATE {spec.table} SET {assignments} FROM {STAGE} s {joins} "
        f"WHERE {spec.table}.{key} = s.{spec.key} AND {resolved} AND ({changed})"
    )
    with dialect.connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount)


def insert_new(dialect: Dialect, spec: KindSpec, *, extra: dict[str, str] | None = None) -> int:
    """Insert the staged rows whose key is not stored yet; return how many. ``extra`` adds
    constant columns (e.g. a placeholder path). The caller holds the table against other
    writers (Dialect.lock_for_merge), so no row can appear between the check and the insert."""
    key = _target(spec.key)
    return _insert(
        dialect,
        spec,
        extra or {},
        f"AND NOT EXISTS (SELECT 1 FROM {spec.table} t WHERE t.{key} = s.{spec.key})",
    )


def insert_all(dialect: Dialect, spec: KindSpec) -> int:
    """Insert every staged row whose references resolve; return how many. For a table the
    caller found empty while holding it against other writers: no key can be stored yet."""
    return _insert(dialect, spec, {}, "")


def _insert(dialect: Dialect, spec: KindSpec, extra: dict[str, str], condition: str) -> int:
    targets, values, joins, resolved = _staged_values(spec)
    sql = (
        f"INSERT INTO {spec.table} ({', '.join([*targets, *extra])}) "
        f"SELECT {', '.join([*values, *extra.values()])} FROM {STAGE} s {joins} "
        f"WHERE {resolved} {condition}"
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
