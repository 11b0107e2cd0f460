"""Import customers, services, network elements, products and teams from CSV or JSON Lines.

An import validates everything first and then applies the whole file, or nothing:

1. stream the file record by record, parse and check each field, and copy good rows into a
   temporary staging table (COPY on PostgreSQL, batched inserts on SQLite). On PostgreSQL a
   CSV line already in stored form skips the field-by-field parse (``fastlines``);
2. check the staged rows as a set: ids repeated in the file, references to unknown rows;
3. if anything was wrong, roll back and report each problem as ``FILE:LINE: field: message``;
4. otherwise merge set-based — ``UPDATE … FROM`` the rows that differ, then ``INSERT … SELECT``
   the new ones (building the indexes once afterwards when the new rows outnumber the stored
   ones) — and record one audit entry with the counts.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, connection, transaction

from amends.core import audit
from amends.network.importer import merge
from amends.network.importer.reader import FileRejected, Problem, open_source
from amends.network.importer.rows import RowParser
from amends.network.importer.specs import IMPORT_ORDER, KINDS, KindSpec
from amends.network.importer.staging import Dialect

__all__ = ["IMPORT_ORDER", "KINDS", "ImportRejected", "ImportResult", "run_import", "stage_file"]


@dataclass
class ImportResult:
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)  # seconds: read, check, merge


class _Stopwatch:
    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.phases[phase] = round(time.perf_counter() - started, 3)


@dataclass
class ProblemReport:
    """The first problems (enough to fix the file) and how many there were in all."""

    limit: int = merge.MAX_REPORTED
    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, problems: list[Problem], total: int | None = None) -> None:
        self.total += len(problems) if total is None else total
        self.problems.extend(problems[: self.limit - len(self.problems)])

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.line, p.field))


class ImportRejected(Exception):
    def __init__(self, path: Path, report: ProblemReport) -> None:
        self.path, self.report = path, report
        super().__init__(f"{path.name}: {report.total} problem(s); nothing was imported")

    def lines(self) -> list[str]:
        shown = [problem.format(str(self.path)) for problem in self.report.sorted()]
        hidden = self.report.total - len(shown)
        if hidden > 0:
            shown.append(f"… and {hidden} more problem(s)")
        return shown


def run_import(kind: str, path: Path, *, actor: audit.Actor, dry_run: bool = False) -> ImportResult:
    """Import one file of ``kind`` all-or-nothing. Raises ImportRejected with every problem."""
    spec = KINDS[kind]
    started = time.perf_counter()
    watch = _Stopwatch()
    report = ProblemReport()
    dialect = Dialect(connection)
    try:
        with transaction.atomic():
            dialect.create_stage(spec)
            with watch("read"):
                rows = stage_file(dialect, spec, path, report, analyze=False)
            created, updated = _check_and_merge(dialect, spec, path, report, watch, rows=rows)
            result = ImportResult(
                kind,
                rows,
                created,
                updated,
                rows - created - updated,
                time.perf_counter() - started,
                watch.phases,
            )
            audit.record(
                actor,
                f"network.import_{kind}",
                (spec.table, path.name),
                after={"file": str(path), "sha256": _sha256(path), **_counts(result)},
            )
            dialect.drop_stage()
            if dry_run:
                transaction.set_rollback(True)
    except FileRejected as exc:
        report.add(exc.problems)
        raise ImportRejected(path, report) from None
    return result


def stage_file(
    dialect: Dialect, spec: KindSpec, path: Path, report: ProblemReport, *, analyze: bool = True
) -> int:
    """Parse ``path`` row by row into the dialect's staging table, collecting problems; return
    the rows staged. ``analyze``: see ``Dialect.loader``.

    Also used by the remedy confirmation import, which stages billing's answers the same way.
    """
    parser = RowParser(spec)
    with (
        open_source(path, spec, fast=dialect.copies_csv) as source,
        dialect.loader(spec, source.columns, analyze=analyze) as sink,
    ):
        for item in source.items:
            if isinstance(item, str):
                sink.add_text(item)
            elif isinstance(item, Problem):
                report.add([item])
            else:
                parsed = parser.parse(*item)
                if isinstance(parsed, list):
                    report.add(parsed)
                else:
                    sink.add(parsed)
    return sink.rows


def _check_and_merge(
    dialect: Dialect,
    spec: KindSpec,
    path: Path,
    report: ProblemReport,
    watch: _Stopwatch,
    *,
    rows: int,
) -> tuple[int, int]:
    """Check the ``rows`` staged as a set and merge them; return (created, updated)."""
    dialect.lock_for_merge(spec.table, [ref.table for ref in spec.references])
    stored = dialect.count(spec.table)
    # A first load, unless rows may refer to rows of the same file (network). Its insert plans
    # the same without statistics of the staged rows (it hashes each referenced table), so
    # ANALYZE waits for the checks, which group and anti-join the staged rows.
    if not stored and not report.total and spec.table not in {r.table for r in spec.references}:
        with watch("merge"):
            created = _merge_first_load(dialect, spec, rows)
        if created is not None:
            return created, 0
    with watch("check"):
        dialect.analyze_stage(spec)
        report.add(*merge.duplicate_problems(dialect, spec))
        for ref in spec.references:
            report.add(*merge.reference_problems(dialect, spec, ref))
    if report.total:
        raise ImportRejected(path, report)
    with watch("merge"):
        # With at least as many new rows as stored ones, build the indexes once at the end.
        created, updated = _merge(dialect, spec, rebuild_indexes=rows >= 2 * stored)
        if spec.kind == "network":
            _link_elements(dialect, path, report)
    return created, updated


def _merge_first_load(dialect: Dialect, spec: KindSpec, rows: int) -> int | None:
    """Into an empty table the merge is its own check, saving a pass over the file: the unique
    index built at the end refuses a repeated id, and a row with an unknown reference is not
    inserted. Returns the rows created, or None, with the merge undone, when any of that
    happened: then the explicit checks name each problem."""
    try:
        with transaction.atomic():  # a savepoint
            with dialect.indexes_built_after(spec.table):
                created = merge.insert_all(dialect, spec)
            if created != rows:
                raise _MergeRefused
    except (IntegrityError, _MergeRefused):
        return None
    return created


class _MergeRefused(Exception):
    """Rows were left out of a first load: undo it and let the checks say why."""


def _merge(dialect: Dialect, spec: KindSpec, *, rebuild_indexes: bool) -> tuple[int, int]:
    """Update the rows that changed and insert the new ones; return (created, updated)."""
    extra = {"path": "''"} if spec.kind == "network" else None
    updated = merge.update_changed(dialect, spec)
    if rebuild_indexes:
        with dialect.indexes_built_after(spec.table):
            created = merge.insert_new(dialect, spec, extra=extra)
    else:
        created = merge.insert_new(dialect, spec, extra=extra)
    return created, updated


def _link_elements(dialect: Dialect, path: Path, report: ProblemReport) -> None:
    """A new parent may come later in the file: a second pass links the elements whose parent
    did not exist yet (not counted again); then paths follow the links, unless they loop."""
    merge.update_changed(dialect, KINDS["network"])
    report.add(*merge.element_cycle_problems(dialect))
    if report.total:
        raise ImportRejected(path, report)
    merge.rebuild_element_paths(dialect)


def _counts(result: ImportResult) -> dict[str, int]:
    return {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
