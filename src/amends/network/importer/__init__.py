"""Import customers, services, network elements, products and teams from CSV or JSON Lines.

An import validates everything first and then applies the whole file, or nothing:

1. stream the file record by record, parse and check each field, and copy good rows into a
   temporary staging table (COPY on PostgreSQL, batched inserts on SQLite);
2. check the staged rows as a set: ids repeated in the file, references to unknown rows;
3. if anything was wrong, roll back and report each problem as ``FILE:LINE: field: message``;
4. otherwise merge set-based (``INSERT … SELECT … ON CONFLICT DO UPDATE``), touching only rows
   that differ, and record one audit entry with the counts.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from amends.core import audit
from amends.network.importer import merge
from amends.network.importer.reader import FileRejected, Problem, read_records
from amends.network.importer.rows import RowParser
from amends.network.importer.specs import IMPORT_ORDER, KINDS, KindSpec
from amends.network.importer.staging import Dialect

__all__ = ["IMPORT_ORDER", "KINDS", "ImportRejected", "ImportResult", "run_import"]


@dataclass
class ImportResult:
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    seconds: float


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
    report = ProblemReport()
    dialect = Dialect(connection)
    try:
        with transaction.atomic():
            dialect.create_stage(spec)
            _stage_file(dialect, spec, path, report)
            _check_staged(dialect, spec, report)
            if report.total:
                raise ImportRejected(path, report)
            rows, created = merge.count_new(dialect, spec)
            touched = _apply(dialect, spec, path, report)
            result = ImportResult(
                kind,
                rows,
                created,
                touched - created,
                rows - touched,
                time.perf_counter() - started,
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


def _stage_file(dialect: Dialect, spec: KindSpec, path: Path, report: ProblemReport) -> None:
    parser = RowParser(spec)
    with dialect.loader(spec) as sink:
        for item in read_records(path, spec):
            if isinstance(item, Problem):
                report.add([item])
                continue
            parsed = parser.parse(*item)
            if isinstance(parsed, list):
                report.add(parsed)
            else:
                sink.add(parsed)


def _check_staged(dialect: Dialect, spec: KindSpec, report: ProblemReport) -> None:
    report.add(*merge.duplicate_problems(dialect, spec))
    for ref in spec.references:
        report.add(*merge.reference_problems(dialect, spec, ref))


def _apply(dialect: Dialect, spec: KindSpec, path: Path, report: ProblemReport) -> int:
    """Merge the staged rows; return how many rows were inserted or changed."""
    if spec.kind != "network":
        return merge.upsert(dialect, spec)
    # New parents may come later in the file: the first pass inserts every element, the second
    # links those whose parent did not exist yet (and is not counted again); then paths follow
    # the links.
    touched = merge.upsert(dialect, spec, extra={"path": "''"})
    merge.upsert(dialect, spec, extra={"path": "''"})
    report.add(*merge.element_cycle_problems(dialect))
    if report.total:
        raise ImportRejected(path, report)
    merge.rebuild_element_paths(dialect)
    return touched


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
