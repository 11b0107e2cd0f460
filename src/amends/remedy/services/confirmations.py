"""Billing's answer to a batch: which payouts were paid and which rejected, imported whole.

The file (CSV or JSON Lines: ``payout_id``, ``status`` paid|rejected, ``billing_reference``,
``reason``, optionally ``batch_id``) is validated entirely before anything changes, the same
way customer imports are: it streams into a staging table (on PostgreSQL a plain line such as
``42,paid,INV-42`` goes to COPY as it is, without a parse in Python; see the importer's
``fastlines``), then set-based checks find ids that are unknown, repeated, from another batch
or not awaiting confirmation, and rejections without a reason. Any problem rejects the whole
file, each reported as ``FILE:LINE: field: message``; otherwise one ``UPDATE … FROM`` applies
it. A line that repeats what is already recorded (the same file imported twice) is accepted
and changes nothing. An empty text field may be staged as NULL (the fast path's empty) or as
'' (a parsed line's): the SQL reads both as ''.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError
from amends.network.importer import ProblemReport, fields, merge, stage_file
from amends.network.importer.reader import FileRejected, Problem
from amends.network.importer.specs import Column, KindSpec
from amends.network.importer.staging import STAGE, Dialect
from amends.remedy.models import Payout, PayoutBatch, PayoutStatus, Program, ProgramStatus
from amends.remedy.services.approval import ANALYSTS, locked_program, require_role

MAX_REPORTED = merge.MAX_REPORTED


class Answer:
    PAID = "paid"
    REJECTED = "rejected"


def _payout_id(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{value!r} is not a payout id (a whole number)")
    return int(value)


def _answer(value: str) -> str:
    lowered = value.lower()
    if lowered not in (Answer.PAID, Answer.REJECTED):
        raise ValueError(f"{value!r} is not paid or rejected")
    return lowered


# The texts stored as written (fields.Field): what billing's own files are made of.
PAYOUT_ID = fields.Field(_payout_id, "[1-9][0-9]{0,17}")
ANSWER = fields.Field(_answer, "paid|rejected")

SPEC = KindSpec(
    kind="confirmation",
    table="remedy_payout",
    key="payout_id",
    columns=(
        Column("payout_id", PAYOUT_ID, required=True, sql_type="bigint", default=None),
        Column("status", ANSWER, required=True),
        Column("billing_reference", fields.text(64)),
        Column("reason", fields.text(2000)),
        Column("batch_id", fields.text(40)),
    ),
)


class ConfirmationRejected(AmendsError):
    """The file has problems; nothing was changed. ``problems`` are FILE:LINE lines."""

    def __init__(self, name: str, problems: list[Problem], total: int) -> None:
        shown = [p.format(name) for p in sorted(problems, key=lambda p: (p.line, p.field))]
        if total > len(shown):
            shown.append(f"… and {total - len(shown)} more problem(s)")
        self.problems = shown
        super().__init__(
            f"{name}: {total} problem(s); nothing was changed\n" + "\n".join(shown),
            field="file",
        )


@dataclass(frozen=True)
class Confirmed:
    batch: PayoutBatch
    paid: int
    rejected: int
    unchanged: int
    batch_complete: bool


def confirmations_import(*, actor: User, program: Program, path: Path) -> Confirmed:
    """Apply billing's confirmation file for one batch of the program, all or nothing."""
    require_role(actor, ANALYSTS, "import billing confirmations")
    report = ProblemReport()
    dialect = Dialect(connection)
    try:
        with transaction.atomic():
            program = locked_program(program, ProgramStatus.PAYING)
            dialect.create_stage(SPEC)
            stage_file(dialect, SPEC, path, report)
            staged = dialect.count(STAGE)
            if not staged and not report.total:
                report.add([Problem(1, "file", "has no confirmations")])
            batch = _target_batch(program, report) if not report.total else None
            _check(program, batch, report)
            if report.total or batch is None:
                raise ConfirmationRejected(path.name, report.problems, report.total)
            result = _apply(batch, staged)
            audit.record(
                actor,
                "remedy.confirmations_import",
                batch,
                after={
                    "program": program.reference,
                    "file": path.name,
                    "sha256": _sha256(path),
                    "paid": result.paid,
                    "rejected": result.rejected,
                    "unchanged": result.unchanged,
                    "batch_complete": result.batch_complete,
                },
            )
            dialect.drop_stage()
    except FileRejected as exc:
        raise ConfirmationRejected(path.name, exc.problems, len(exc.problems)) from None
    return result


def _target_batch(program: Program, report: ProblemReport) -> PayoutBatch | None:
    """The batch the file answers: the one its batch_id names, else the first known
    payout's. None (with a problem reported, unless the ids are unknown) when neither is."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.line, s.batch_id, p.batch_id FROM {STAGE} s "  # noqa: S608
            "LEFT JOIN remedy_payout p ON p.id = s.payout_id AND p.program_id = %s "
            "WHERE s.batch_id <> '' OR p.batch_id IS NOT NULL "
            "ORDER BY CASE WHEN s.batch_id <> '' THEN 0 ELSE 1 END, s.line LIMIT 1",
            [program.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    line, named, first = row
    if not named:
        return PayoutBatch.objects.get(pk=first)
    batch = PayoutBatch.objects.filter(program=program, batch_id=named).first()
    if batch is None:
        report.add([Problem(line, "batch_id", f"no batch {named} in {program.reference}")])
    return batch


def _problems(sql: str, params: list[Any]) -> tuple[int, list[tuple[Any, ...]]]:
    """Run a check returning (line, …, total) rows, the total from ``count(*) OVER ()``."""
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY s.line LIMIT {MAX_REPORTED}", params)
        rows = cursor.fetchall()
    return (int(rows[0][-1]) if rows else 0), rows


def _check(program: Program, batch: PayoutBatch | None, report: ProblemReport) -> None:
    report.add(*merge.duplicate_problems(Dialect(connection), SPEC))
    total, rows = _problems(
        f"SELECT s.line, count(*) OVER () FROM {STAGE} s "  # noqa: S608
        "WHERE s.status = %s AND COALESCE(s.reason, '') = ''",
        [Answer.REJECTED],
    )
    report.add([Problem(line, "reason", "say why billing rejected it") for line, _ in rows], total)
    joined = f"FROM {STAGE} s LEFT JOIN remedy_payout p ON p.id = s.payout_id AND p.program_id = %s"
    total, rows = _problems(
        f"SELECT s.line, s.payout_id, count(*) OVER () {joined} WHERE p.id IS NULL",  # noqa: S608
        [program.pk],
    )
    report.add(
        [
            Problem(line, "payout_id", f"no payout {pid} in program {program.reference}")
            for line, pid, _ in rows
        ],
        total,
    )
    if batch is not None:
        _check_batch(program, batch, joined, report)
        _check_state(program, batch, joined, report)


def _check_batch(program: Program, batch: PayoutBatch, joined: str, report: ProblemReport) -> None:
    total, rows = _problems(
        "SELECT s.line, s.payout_id, b.batch_id, count(*) OVER () "  # noqa: S608
        f"{joined} LEFT JOIN remedy_payoutbatch b ON b.id = p.batch_id "
        "WHERE p.id IS NOT NULL AND (p.batch_id IS NULL OR p.batch_id <> %s)",
        [program.pk, batch.pk],
    )
    report.add(
        [
            Problem(
                line,
                "payout_id",
                f"payout {pid} is {'in batch ' + other if other else 'in no batch'}, not in "
                f"{batch.batch_id}: a confirmation file answers one batch",
            )
            for line, pid, other, _ in rows
        ],
        total,
    )
    total, rows = _problems(
        f"SELECT s.line, s.batch_id, count(*) OVER () FROM {STAGE} s "  # noqa: S608
        "WHERE s.batch_id <> '' AND s.batch_id <> %s",
        [batch.batch_id],
    )
    report.add(
        [
            Problem(line, "batch_id", f"is {named}; the file answers {batch.batch_id}")
            for line, named, _ in rows
        ],
        total,
    )


def _check_state(program: Program, batch: PayoutBatch, joined: str, report: ProblemReport) -> None:
    """Only payouts awaiting billing's answer may change; a line repeating the answer already
    recorded (same status and billing reference) is accepted as it is."""
    total, rows = _problems(
        f"SELECT s.line, s.payout_id, p.status, count(*) OVER () {joined} "  # noqa: S608
        "WHERE p.batch_id = %s AND p.status <> %s AND NOT (p.status = s.status "
        "AND p.billing_reference = COALESCE(s.billing_reference, ''))",
        [program.pk, batch.pk, PayoutStatus.EXPORTED],
    )
    report.add(
        [
            Problem(
                line,
                "payout_id",
                f"payout {pid} is already {PayoutStatus(status).label.lower()}",
            )
            for line, pid, status, _ in rows
        ],
        total,
    )


def _apply(batch: PayoutBatch, staged: int) -> Confirmed:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.status, count(*) FROM {STAGE} s JOIN remedy_payout p "  # noqa: S608
            "ON p.id = s.payout_id WHERE p.status = %s GROUP BY s.status",
            [PayoutStatus.EXPORTED],
        )
        counts = dict(cursor.fetchall())
        cursor.execute(
            "UPDATE remedy_payout SET status = s.status, "  # noqa: S608
            "billing_reference = COALESCE(s.billing_reference, ''), "
            "rejection_reason = CASE WHEN s.status = %s THEN s.reason ELSE '' END, "
            "paid_at = CASE WHEN s.status = %s THEN %s ELSE NULL END "
            f"FROM {STAGE} s WHERE remedy_payout.id = s.payout_id AND remedy_payout.status = %s",
            [Answer.REJECTED, Answer.PAID, now, PayoutStatus.EXPORTED],
        )
        changed = int(cursor.rowcount)
    awaiting = Payout.objects.filter(
        program_id=batch.program_id, batch=batch, status=PayoutStatus.EXPORTED
    )
    complete = not awaiting.exists()
    if complete and batch.confirmed_at is None:
        batch.confirmed_at = timezone.now()
        batch.save(update_fields=["confirmed_at"])
    return Confirmed(
        batch=batch,
        paid=int(counts.get(Answer.PAID, 0)),
        rejected=int(counts.get(Answer.REJECTED, 0)),
        unchanged=staged - changed,
        batch_complete=complete,
    )


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
