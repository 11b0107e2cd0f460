"""Telling customers: "we've credited your account" (or "we've refunded you") once billing
confirms, and the apology.

``credit_notices_send`` makes "credit applied" notices (audience: the list of customers whose
bill credit or refund billing confirmed and who have not been told yet) through the
communications pipeline — created and submitted like any notice, so a large one waits for a
second person's approval. A notice lists at most ``CUSTOMERS_PER_NOTICE`` customers (the list
audience is matched with one query parameter per customer). Each message's amount,
explanation, method (``bill_credit`` or ``refund``: the shipped wording says "on your next
bill" or "paid to the payment details we hold") and program reference come from
``credit_context``, the provider the renderer calls per batch (see
``amends.comms.context_providers``). The apology is a plain notice to everyone affected.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from amends.comms.models import Notice, NoticeKind
from amends.comms.services import notice_create, notice_submit
from amends.core import audit
from amends.core.errors import Conflict
from amends.core.money import format_cents
from amends.remedy.models import (
    CreditNotice,
    Payout,
    PayoutMethod,
    PayoutStatus,
    Program,
    ProgramStatus,
)

CUSTOMERS_PER_NOTICE = 20_000


TOLD_METHODS = (PayoutMethod.BILL_CREDIT, PayoutMethod.REFUND)


def _untold(program: Program) -> Any:
    return Payout.objects.filter(
        program=program,
        method__in=TOLD_METHODS,
        status=PayoutStatus.PAID,
        entitlement__isnull=False,
        credit_notice__isnull=True,
    )


def untold_customers(program: Program) -> int:
    """Customers whose credit or refund is confirmed but who have not been told yet."""
    return int(_untold(program).count())


def _first_outage(program: Program) -> Any:
    return program.outages.order_by("started_at", "pk").first()


def credit_notices_send(*, actor: User, program: Program, message: str = "") -> list[Notice]:
    """One "credit applied" notice per chunk of confirmed, untold customers, submitted (the
    communications roles apply: ``notice_create`` checks them). Returns the notices."""
    program = Program.objects.get(pk=program.pk)  # its status now, not when it was loaded
    if program.status not in (ProgramStatus.PAYING, ProgramStatus.CLOSED):
        raise Conflict(f"program {program.reference} has paid nobody yet", field="status")
    made: list[Notice] = []
    with transaction.atomic():
        rows = list(_untold(program).order_by("pk").values_list("pk", "customer__external_id"))
        if not rows:
            raise Conflict("every customer with a confirmed credit has been told", field="status")
        for start in range(0, len(rows), CUSTOMERS_PER_NOTICE):
            chunk = rows[start : start + CUSTOMERS_PER_NOTICE]
            made.append(_credit_notice(actor, program, chunk, message))
        audit.record(
            actor,
            "remedy.credit_notices_send",
            program,
            after={"notices": [n.pk for n in made], "customers": len(rows)},
        )
    return made


def _credit_notice(
    actor: User, program: Program, chunk: list[tuple[int, str]], message: str
) -> Notice:
    notice = notice_create(
        actor=actor,
        kind=NoticeKind.CREDIT_APPLIED,
        audience="list",
        outage=_first_outage(program),
        customers=[external_id for _, external_id in chunk],
        message=message,
    )
    calculation = program.approved_calculation
    assert calculation is not None  # paying programs were approved
    link = CreditNotice.objects.create(notice=notice, program=program, calculation=calculation)
    Payout.objects.filter(pk__in=[pk for pk, _ in chunk]).update(credit_notice=link)
    return notice_submit(actor=actor, notice=notice)


def apology_send(*, actor: User, program: Program, message: str = "") -> list[Notice]:
    """An apology to everyone affected by each of the program's outages, submitted."""
    made = []
    with transaction.atomic():
        for outage in program.outages.order_by("started_at", "pk"):
            notice = notice_create(
                actor=actor,
                kind=NoticeKind.APOLOGY,
                audience="all_affected",
                outage=outage,
                message=message,
            )
            made.append(notice_submit(actor=actor, notice=notice))
        audit.record(actor, "remedy.apology_send", program, after={"notices": [n.pk for n in made]})
    return made


def credit_context(notice: Notice, customer_ids: list[int]) -> Mapping[int, Mapping[str, Any]]:
    """The comms context provider for "credit applied" notices: each customer's ``credit``
    (amount in dollars, explanation, method, program reference). One query per batch; none for
    other notices. A customer the notice's program has no payout for (a notice composed by
    hand) gets no amount and the bill-credit wording, so every ``credit`` variable exists."""
    if notice.kind != NoticeKind.CREDIT_APPLIED:
        return {}
    found: dict[int, Mapping[str, Any]] = {
        customer_id: {"credit": _credit(0, 0, "", PayoutMethod.BILL_CREDIT, "")}
        for customer_id in customer_ids
    }
    rows = Payout.objects.filter(
        credit_notice__notice_id=notice.pk, customer_id__in=customer_ids
    ).values_list(
        "customer_id",
        "amount_cents",
        "entitlement__total_cents",
        "entitlement__explanation",
        "method",
        "program__reference",
    )
    for customer_id, cents, entitled, explanation, method, reference in rows:
        found[customer_id] = {"credit": _credit(cents, entitled, explanation, method, reference)}
    return found


def _credit(
    cents: int, entitled_cents: int, explanation: str, method: str, reference: str
) -> dict[str, Any]:
    """The explanation as a sentence (messages go on after it). A refund paid later than the
    calculation carries interest to its payment date, so it can be more than the explanation's
    total: say so rather than leave two amounts unexplained."""
    explanation = explanation.strip()
    if explanation and explanation[-1] not in ".!?":
        explanation += "."
    if cents != entitled_cents:
        explanation += f" With interest to the day it was paid: {format_cents(cents)}."
    return {
        "amount": Decimal(cents) / 100,
        "explanation": explanation,
        "method": method,
        "program_reference": reference,
    }
