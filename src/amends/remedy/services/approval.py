"""Four-eyes approval of a program's calculation: submit for review, approve, reject.

calculated → in review (an analyst submits the latest calculation) → approved (an approver who
neither wrote the program nor ran that calculation) or back to draft (rejected, with reasons).
Approval fixes ``approved_calculation``: payments are made from that version only, and a
recalculation afterwards moves the program back to "calculated", needing a new approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.core.roles import Role, has_role
from amends.remedy.models import Calculation, Program, ProgramStatus

ANALYSTS = (Role.REMEDIATION_ANALYST, Role.ADMIN)
APPROVERS = (Role.APPROVER, Role.ADMIN)


def require_role(actor: Any, roles: Sequence[str], doing: str) -> None:
    """Refuse (403) an actor holding none of ``roles``; ``doing`` completes "may …"."""
    if not has_role(actor, *roles):
        raise AmendsError(f"your account has no role that may {doing}", status=403)


def locked_program(program: Program, *expected: str) -> Program:
    """The program's row, locked for this transaction, if it is in one of ``expected``."""
    current = Program.objects.select_for_update().get(pk=program.pk)
    if current.status not in expected:
        allowed = " or ".join(ProgramStatus(s).label.lower() for s in expected)
        raise Conflict(
            f"program {current.reference} is {current.get_status_display().lower()}; "
            f"this needs it {allowed}",
            field="status",
        )
    return current


def latest_calculation(program: Program) -> Calculation | None:
    return Calculation.objects.filter(program=program).order_by("-version").first()


def _calculation_to_review(program: Program, version: int | None) -> Calculation:
    latest = latest_calculation(program)
    if latest is None:
        raise Conflict(f"program {program.reference} has not been calculated", field="status")
    if version is not None and version != latest.version:
        raise Conflict(
            f"version {latest.version} was calculated after the version {version} you "
            "reviewed: review it first",
            field="version",
        )
    return latest


def program_submit(*, actor: User, program: Program) -> Program:
    """Ask for approval of the latest calculation (calculated → in review)."""
    require_role(actor, ANALYSTS, "submit programs for approval")
    with transaction.atomic():
        program = locked_program(program, ProgramStatus.CALCULATED)
        calculation = _calculation_to_review(program, None)
        program.status = ProgramStatus.IN_REVIEW
        program.save(update_fields=["status", "updated_at"])
        audit.record(
            actor,
            "remedy.program_submit",
            program,
            before={"status": ProgramStatus.CALCULATED},
            after={"status": program.status, "calculation": calculation.version},
        )
    return program


def _check_second_person(actor: User, program: Program, calculation: Calculation) -> None:
    if program.author_id == actor.pk:
        raise AmendsError(
            "you wrote this program: a second person with the approver role must approve it",
            status=403,
        )
    if calculation.calculated_by == actor.get_username():
        raise AmendsError(
            f"you ran calculation version {calculation.version}: a second person with the "
            "approver role must approve it",
            status=403,
        )


def program_approve(*, actor: User, program: Program, version: int | None = None) -> Program:
    """Approve the latest calculation (in review → approved). ``version``, when given, is the
    one the approver looked at; a newer one is refused rather than approved unseen."""
    require_role(actor, APPROVERS, "approve remediation programs")
    with transaction.atomic():
        program = locked_program(program, ProgramStatus.IN_REVIEW)
        calculation = _calculation_to_review(program, version)
        _check_second_person(actor, program, calculation)
        before = {
            "status": program.status,
            "approved_calculation": program.approved_calculation_id,
        }
        program.status = ProgramStatus.APPROVED
        program.approver = actor
        program.approved_at = timezone.now()
        program.approved_calculation = calculation
        program.save(
            update_fields=[
                "status",
                "approver",
                "approved_at",
                "approved_calculation",
                "updated_at",
            ]
        )
        audit.record(
            actor,
            "remedy.program_approve",
            program,
            before=before,
            after={
                "status": program.status,
                "approved_calculation": calculation.pk,
                "version": calculation.version,
                "eligible_customers": calculation.eligible_customers,
                "total_cents": calculation.total_cents,
            },
        )
    return program


def program_reject(*, actor: User, program: Program, reasons: str) -> Program:
    """Send the program back to draft (in review → draft) with the approver's reasons."""
    require_role(actor, APPROVERS, "reject remediation programs")
    reasons = reasons.strip()
    if not reasons:
        raise AmendsError("say why, so the analyst knows what to change", field="reasons")
    with transaction.atomic():
        program = locked_program(program, ProgramStatus.IN_REVIEW)
        calculation = _calculation_to_review(program, None)
        program.status = ProgramStatus.DRAFT
        program.save(update_fields=["status", "updated_at"])
        audit.record(
            actor,
            "remedy.program_reject",
            program,
            before={"status": ProgramStatus.IN_REVIEW},
            after={
                "status": program.status,
                "calculation": calculation.version,
                "reasons": reasons,
            },
        )
    return program
