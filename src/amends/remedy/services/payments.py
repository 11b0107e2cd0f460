"""Paying an approved calculation: payouts, billing batches, the residual ledger, closing.

approved → paying: ``payouts_create`` makes one payout per eligible entitlement, set-based —
current customers get a bill credit; former customers with refund details a refund; former
customers without them wait in "awaiting payment details" while we make reasonable efforts.
``batch_export`` hands pending payouts of one method to billing as an idempotent batch (its
file is in ``payment_files``; confirmations come back through ``confirmations``). A payout
billing rejected can be queued again (``payouts_requeue``) or, for a former customer, moved to
the residual ledger (``residual_record``). paying → closed once every payout is paid or in the
residual ledger. The operator never keeps an amount: there is no such destination.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from amends.core import audit
from amends.core.db import allow_bulk_memory
from amends.core.errors import AmendsError, Conflict
from amends.remedy.models import (
    BatchFormat,
    Payout,
    PayoutBatch,
    PayoutMethod,
    PayoutStatus,
    Program,
    ProgramStatus,
    ResidualDestination,
    ResidualEntry,
)
from amends.remedy.services import interest, payment_files
from amends.remedy.services.approval import ANALYSTS, locked_program, require_role

# RG 277: an amount up to $5 (after interest) owed to a former customer with no payment
# details may go to charity once reasonable efforts have been made.
CHARITY_LIMIT_CENTS = 500
EXPORTABLE = (PayoutMethod.BILL_CREDIT, PayoutMethod.REFUND)
METHOD_CODES = {PayoutMethod.BILL_CREDIT: "BC", PayoutMethod.REFUND: "RF"}
SETTLED = (PayoutStatus.PAID, PayoutStatus.RESIDUAL)
MIN_EFFORTS = 20  # characters: "emailed 3 May" is not a record of reasonable efforts


def _db(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def payouts_create(*, actor: User, program: Program) -> dict[str, int]:
    """One payout per eligible entitlement of the approved calculation (approved → paying);
    returns how many of each method/status were made."""
    require_role(actor, ANALYSTS, "start payments")
    with transaction.atomic():
        program = locked_program(program, ProgramStatus.APPROVED)
        _check_approval_current(program)
        allow_bulk_memory()
        # Runs once per approval (approved → paying), so no entitlement has a payout yet; the
        # unique entitlement_id would refuse a second one. No anti-join: on a payout table
        # whose statistics say "empty" PostgreSQL plans it as a nested loop over a seq scan.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO remedy_payout (program_id, entitlement_id, claim_id, customer_id, "
                "method, amount_cents, interest_cents, payment_reference, status, batch_id, "
                "billing_reference, rejection_reason, paid_at, credit_notice_id, created_at) "
                "SELECT %s, e.id, NULL, e.customer_id, "
                "CASE WHEN c.is_former = %s THEN %s ELSE %s END, "
                "e.total_cents, e.interest_cents, "
                "CASE WHEN c.is_former = %s THEN c.payment_reference ELSE '' END, "
                "CASE WHEN c.is_former = %s AND c.payment_reference = '' THEN %s ELSE %s END, "
                "NULL, '', '', NULL, NULL, %s "
                "FROM remedy_entitlement e JOIN network_customer c ON c.id = e.customer_id "
                "WHERE e.calculation_id = %s AND e.eligible = %s AND e.total_cents > 0",
                [
                    program.pk,
                    True,
                    PayoutMethod.REFUND,
                    PayoutMethod.BILL_CREDIT,
                    True,
                    True,
                    PayoutStatus.EFFORTS,
                    PayoutStatus.PENDING,
                    _db(timezone.now()),
                    program.approved_calculation_id,
                    True,
                ],
            )
        counts = _counts(program)
        program.status = ProgramStatus.PAYING
        program.save(update_fields=["status", "updated_at"])
        audit.record(
            actor,
            "remedy.payouts_create",
            program,
            before={"status": ProgramStatus.APPROVED},
            after={"status": program.status, "payouts": counts},
        )
    return counts


def _check_approval_current(program: Program) -> None:
    latest = program.calculations.order_by("-version").values_list("pk", flat=True).first()
    if program.approved_calculation_id is None or latest != program.approved_calculation_id:
        raise Conflict(
            f"program {program.reference} was recalculated after approval: "
            "the new version needs approving first",
            field="status",
        )


def _counts(program: Program) -> dict[str, int]:
    rows = (
        Payout.objects.filter(program=program)
        .values_list("method", "status")
        .annotate(n=Count("id"))
        .order_by("method", "status")
    )
    return {f"{method}/{status}": n for method, status, n in rows}


@dataclass(frozen=True)
class PayoutLine:
    method: str
    status: str
    payouts: int
    total_cents: int


def payout_summary(program: Program) -> list[PayoutLine]:
    """Payouts by method and status, with their amounts."""
    rows = (
        Payout.objects.filter(program=program)
        .values_list("method", "status")
        .annotate(n=Count("id"), total=Sum("amount_cents"))
        .order_by("method", "status")
    )
    return [PayoutLine(m, s, int(n), int(total or 0)) for m, s, n, total in rows]


@dataclass(frozen=True)
class Exported:
    batch: PayoutBatch
    reused: bool  # True: the same unconfirmed batch as before, nothing new marked


def batch_export(
    *,
    actor: User,
    program: Program,
    method: str,
    file_format: str = BatchFormat.CSV,
    handle: IO[bytes] | None = None,
) -> Exported:
    """Put every pending payout of ``method`` into a new batch for billing, or — when none is
    pending — return the batch already sent and not yet confirmed, so exporting twice never
    credits anyone twice. An approved program starts paying first.

    With ``handle``, the batch's file is written there as it is made (one pass for the file
    and its SHA-256); an error afterwards rolls the batch back, so the caller should discard
    what was written."""
    require_role(actor, ANALYSTS, "export payments")
    if method not in EXPORTABLE:
        raise AmendsError("is bill_credit or refund", field="method")
    if file_format not in BatchFormat.values:
        raise AmendsError("is csv or jsonl", field="format")
    if Program.objects.filter(pk=program.pk, status=ProgramStatus.APPROVED).exists():
        payouts_create(actor=actor, program=program)
    with transaction.atomic():
        program = locked_program(program, ProgramStatus.PAYING)
        if method == PayoutMethod.REFUND:
            _refund_details_found(program)
        if not Payout.objects.filter(
            program=program, method=method, status=PayoutStatus.PENDING
        ).exists():
            batch = _unconfirmed_batch(program, method, file_format)
            if handle is not None:
                payment_files.write(batch, handle)
            return Exported(batch, reused=True)
        batch = _new_batch(actor, program, method, file_format, handle)
    return Exported(batch, reused=False)


def _refund_details_found(program: Program) -> int:
    """Former customers awaiting payment details who now have them become pending refunds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE remedy_payout SET status = %s, payment_reference = (SELECT c.payment_reference "
            "FROM network_customer c WHERE c.id = remedy_payout.customer_id) "
            "WHERE program_id = %s AND status = %s AND EXISTS (SELECT 1 FROM network_customer c "
            "WHERE c.id = remedy_payout.customer_id AND c.payment_reference <> '')",
            [PayoutStatus.PENDING, program.pk, PayoutStatus.EFFORTS],
        )
        return int(cursor.rowcount)


def _unconfirmed_batch(program: Program, method: str, file_format: str) -> PayoutBatch:
    batch = (
        PayoutBatch.objects.filter(program=program, method=method, confirmed_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )
    if batch is None:
        raise Conflict(f"no {PayoutMethod(method).label.lower()} is waiting to be exported")
    if batch.file_format != file_format:
        raise Conflict(
            f"batch {batch.batch_id} went to billing as {batch.file_format}: export it as "
            f"{batch.file_format} to get the same file again",
            field="format",
        )
    return batch


def _new_batch(
    actor: User, program: Program, method: str, file_format: str, handle: IO[bytes] | None
) -> PayoutBatch:
    now = timezone.now()
    number = PayoutBatch.objects.filter(program=program).count() + 1
    batch = PayoutBatch.objects.create(
        program=program,
        batch_id=f"{program.reference}-{METHOD_CODES[PayoutMethod(method)]}-{number:03d}",
        method=method,
        file_format=file_format,
        payment_date=timezone.localdate(now),
        created_by=audit.actor_name(actor),
    )
    allow_bulk_memory()
    Payout.objects.filter(program=program, method=method, status=PayoutStatus.PENDING).update(
        status=PayoutStatus.EXPORTED, batch=batch
    )
    in_batch = Payout.objects.filter(program=program, batch=batch)  # payouts are by program
    if method == PayoutMethod.REFUND:
        interest.apply_to_payment(program, in_batch, paid_at=now)
    totals = in_batch.aggregate(n=Count("id"), total=Sum("amount_cents"))
    batch.items, batch.total_cents = int(totals["n"]), int(totals["total"] or 0)
    batch.sha256 = payment_files.write(batch, handle)
    batch.save(update_fields=["items", "total_cents", "sha256"])
    audit.record(
        actor,
        "remedy.batch_export",
        batch,
        after={
            "program": program.reference,
            "batch_id": batch.batch_id,
            "method": method,
            "items": batch.items,
            "total_cents": batch.total_cents,
            "sha256": batch.sha256,
        },
    )
    return batch


def payouts_requeue(*, actor: User, program: Program, payout_ids: list[int] | None = None) -> int:
    """Payouts billing rejected go back to pending, for the next batch (all rejected ones when
    no ids are given); returns how many."""
    require_role(actor, ANALYSTS, "re-export payments")
    with transaction.atomic():
        program = locked_program(program, ProgramStatus.PAYING)
        chosen = _chosen(program, payout_ids, PayoutStatus.REJECTED)
        requeued = int(chosen.update(status=PayoutStatus.PENDING, batch=None))
        audit.record(
            actor,
            "remedy.payouts_requeue",
            program,
            after={"payouts": requeued, "ids": payout_ids},
        )
    return requeued


def _chosen(program: Program, payout_ids: list[int] | None, *statuses: str) -> Any:
    """The payouts named (each must exist in the program and be in ``statuses``) or, with no
    ids, every payout of the program in ``statuses``."""
    query = Payout.objects.filter(program=program)
    if payout_ids is None:
        return query.filter(status__in=statuses)
    found = dict(query.filter(pk__in=payout_ids).values_list("pk", "status"))
    unknown = [str(pk) for pk in payout_ids if pk not in found]
    if unknown:
        raise AmendsError(
            f"no payout {', '.join(unknown[:5])} in program {program.reference}", field="payout"
        )
    wrong = [f"{pk} is {found[pk]}" for pk in payout_ids if found[pk] not in statuses]
    if wrong:
        allowed = " or ".join(PayoutStatus(s).label.lower() for s in statuses)
        raise Conflict(f"payout {'; '.join(wrong[:5])}: it must be {allowed}", field="payout")
    return query.filter(pk__in=payout_ids)


def residual_record(
    *,
    actor: User,
    program: Program,
    efforts: str,
    destination_kind: str,
    destination: str,
    payout_ids: list[int] | None = None,
) -> int:
    """Move unpaid amounts of former customers to the residual ledger after recorded reasonable
    efforts (all payouts awaiting payment details when no ids are given); returns how many.

    Current customers are always paid: refused. Charity only for amounts up to $5 after
    interest owed to former customers with no payment details (RG 277); larger amounts are
    lodged as unclaimed money or held for the customer. The operator is never a destination.
    """
    require_role(actor, ANALYSTS, "record residual amounts")
    efforts, destination = efforts.strip(), destination.strip()
    if len(efforts) < MIN_EFFORTS:
        raise AmendsError(
            "say what was tried to pay the customer, and when (at least a sentence)",
            field="efforts",
        )
    if destination_kind not in ResidualDestination.values:
        raise AmendsError(f"is one of {', '.join(ResidualDestination.values)}", field="kind")
    if not destination:
        raise AmendsError("name the charity or holding account", field="destination")
    with transaction.atomic():
        program = locked_program(program, ProgramStatus.PAYING)
        # Named payouts may be refunds billing rejected too; "all" means those awaiting details.
        statuses: tuple[str, ...] = (PayoutStatus.EFFORTS,)
        if payout_ids is not None:
            statuses = (PayoutStatus.EFFORTS, PayoutStatus.REJECTED)
        chosen = _chosen(program, payout_ids, *statuses)
        _refuse_current_customers(chosen)
        now = timezone.now()
        interest.apply_to_payment(program, chosen, paid_at=now)
        if destination_kind == ResidualDestination.CHARITY:
            _check_charity(chosen)
        moved = _move_to_ledger(actor, chosen, destination_kind, destination, efforts)
        audit.record(
            actor,
            "remedy.residual_record",
            program,
            after={
                "payouts": moved,
                "ids": payout_ids,
                "destination_kind": destination_kind,
                "destination": destination,
                "efforts": efforts,
            },
        )
    return moved


def _refuse_current_customers(chosen: Any) -> None:
    current = list(
        chosen.filter(customer__is_former=False).values_list("pk", flat=True).order_by("pk")[:5]
    )
    if current:
        raise Conflict(
            f"payout {', '.join(map(str, current))} is owed to a current customer: current "
            "customers are always paid (queue it again as a bill credit)",
            field="payout",
        )


def _check_charity(chosen: Any) -> None:
    over = list(
        chosen.filter(amount_cents__gt=CHARITY_LIMIT_CENTS)
        .values_list("pk", flat=True)
        .order_by("pk")[:5]
    )
    if over:
        raise Conflict(
            f"payout {', '.join(map(str, over))} is over $5 after interest: only amounts up "
            "to $5 may go to charity; lodge it as unclaimed money or hold it for the customer",
            field="kind",
        )
    with_details = list(
        chosen.exclude(customer__payment_reference="")
        .values_list("pk", flat=True)
        .order_by("pk")[:5]
    )
    if with_details:
        raise Conflict(
            f"payout {', '.join(map(str, with_details))}: the customer has payment details, "
            "so the amount cannot go to charity; refund it or hold it for them",
            field="kind",
        )


def _move_to_ledger(actor: User, chosen: Any, kind: str, destination: str, efforts: str) -> int:
    ids_sql, ids_params = chosen.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO remedy_residualentry (program_id, payout_id, customer_id, amount_cents, "  # noqa: S608
            "interest_cents, efforts, destination_kind, destination, recorded_by, created_at) "
            "SELECT program_id, id, customer_id, amount_cents, interest_cents, %s, %s, %s, %s, %s "
            f"FROM remedy_payout WHERE id IN ({ids_sql})",
            [
                efforts,
                kind,
                destination,
                audit.actor_name(actor),
                _db(timezone.now()),
                *ids_params,
            ],
        )
        moved = int(cursor.rowcount)
    chosen.update(status=PayoutStatus.RESIDUAL)
    return moved


def program_close(*, actor: User, program: Program) -> Program:
    """paying → closed, only when every payout is paid or in the residual ledger."""
    require_role(actor, ANALYSTS, "close programs")
    with transaction.atomic():
        program = locked_program(program, ProgramStatus.PAYING)
        open_payouts = (
            Payout.objects.filter(program=program)
            .exclude(status__in=SETTLED)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by("status")
        )
        if open_payouts:
            left = ", ".join(f"{n} {PayoutStatus(s).label.lower()}" for s, n in open_payouts)
            raise Conflict(f"not every payout is settled: {left}", field="status")
        program.status = ProgramStatus.CLOSED
        program.closed_at = timezone.now()
        program.save(update_fields=["status", "closed_at", "updated_at"])
        audit.record(
            actor,
            "remedy.program_close",
            program,
            before={"status": ProgramStatus.PAYING},
            after={"status": program.status, "payouts": _counts(program)},
        )
    return program


def residual_entries(program: Program) -> Any:
    return ResidualEntry.objects.filter(program=program).select_related("customer")
