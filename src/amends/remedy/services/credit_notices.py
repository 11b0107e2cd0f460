"""Telling customers: "we've credited your account" (or "we've refunded you") once billing
confirms, and the apology.

``credit_notices_send`` makes one "credit applied" notice for every customer of a program
whose bill credit or refund billing confirmed and who has not been told yet, through the
communications pipeline — created and submitted like any notice, so a large one waits for a
second person's approval. Its audience is this app's own (``credit_audience``, registered with
``amends.comms.audience_providers``): the customers whose payouts the notice tells, read
set-based by the statements that count the audience and create its outbox rows, however many
they are. Each message's amount, explanation, method (``bill_credit`` or ``refund``: the
shipped wording says "on your next bill" or "paid to the payment details we hold") and program
reference come from ``credit_context``, the provider the renderer calls per batch (see
``amends.comms.context_providers``). The apology is a plain notice to everyone affected.

A customer a released notice could not reach — every channel failed, or no way to reach them
at all — is *not reached*: counted (``telling``) but never told again on its own, so that a
customer with no contact details does not make every later notice fail or loop. Once their
details are fixed, ``credit_notices_send(retry_unreached=True)`` tells them again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from amends.comms.audience_providers import NOBODY, Condition
from amends.comms.models import (
    OPEN_DELIVERY,
    Audience,
    Delivery,
    DeliveryStatus,
    Notice,
    NoticeKind,
    NoticeStatus,
)
from amends.comms.services import notice_create, notice_submit
from amends.core import audit
from amends.core.errors import Conflict
from amends.core.money import DEFAULT_CURRENCY, format_money
from amends.remedy.credit_links import credit_url
from amends.remedy.models import (
    CreditNotice,
    Payout,
    PayoutMethod,
    PayoutStatus,
    Program,
    ProgramStatus,
)

# The name the notices' audience provider is registered under (RemedyConfig.ready).
CREDIT_AUDIENCE = "remedy.credit"
TOLD_METHODS = (PayoutMethod.BILL_CREDIT, PayoutMethod.REFUND)
# A message in one of these states may have reached the customer: never sent again.
REACHED = (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
# Why a customer counts as not reached, in the console's, report's and CLI's words.
NOT_REACHED_WHY = "every channel failed or no way to reach them"
# A notice in one of these states has written its outbox rows (all at once, on release).
RELEASED = (NoticeStatus.SENDING, NoticeStatus.SENT)


def _paid(program: Program) -> QuerySet[Payout]:
    """The program's confirmed credits and refunds of entitlements: what a notice tells."""
    return Payout.objects.filter(
        program=program,
        method__in=TOLD_METHODS,
        status=PayoutStatus.PAID,
        entitlement__isnull=False,
    )


def _messages(statuses: Sequence[str]) -> QuerySet[Delivery]:
    """The payout's customer's messages of its notice in one of ``statuses`` (for Exists)."""
    return Delivery.objects.filter(
        notice_id=OuterRef("credit_notice__notice_id"),
        customer_id=OuterRef("customer_id"),
        status__in=statuses,
    )


def _untold(program: Program) -> QuerySet[Payout]:
    """Confirmed credits and refunds of entitlements nobody told their customer about: not
    linked to a notice, or linked to a cancelled one that never sent them a message (whether
    it was cancelled before release or while their message still waited, e.g. for the end of
    their quiet hours)."""
    cancelled = CreditNotice.objects.filter(program=program, notice__status=NoticeStatus.CANCELLED)
    return _paid(program).filter(
        Q(credit_notice__isnull=True)
        | (Q(credit_notice__in=cancelled) & ~Exists(_messages(REACHED)))
    )


def _not_reached(program: Program) -> QuerySet[Payout]:
    """Confirmed credits and refunds whose released notice has no message to their customer
    that reached them or is still on its way: every channel failed (failed, bounced, dead:
    fallbacks included), or they had no way to be reached (release writes all of a notice's
    messages at once, so a customer it wrote none for gets none). A message still queued,
    held or sending is on its way: its customer is neither counted nor told again."""
    return (
        _paid(program)
        .filter(credit_notice__notice__status__in=RELEASED)
        .exclude(Exists(_messages((*OPEN_DELIVERY, *REACHED))))
    )


def untold_customers(program: Program) -> int:
    """Customers whose credit or refund is confirmed but who have not been told yet."""
    return int(_untold(program).count())


@dataclass(frozen=True)
class Telling:
    """Where telling the program's paid customers stands, as the console, the report, the
    API and the CLI show it."""

    untold: int  # confirmed, and no notice told them yet
    not_reached: int  # a notice tried: every channel failed, or no way to reach them


def telling(program: Program) -> Telling:
    """Paid customers not told yet and not reached (two counts, set-based)."""
    return Telling(untold=untold_customers(program), not_reached=int(_not_reached(program).count()))


def _first_outage(program: Program) -> Any:
    return program.outages.order_by("started_at", "pk").first()


def credit_notices_send(
    *, actor: User, program: Program, message: str = "", retry_unreached: bool = False
) -> list[Notice]:
    """One "credit applied" notice to every confirmed customer of the program not told yet,
    submitted (the communications roles apply: ``notice_create`` checks them). Run again, it
    tells only customers confirmed since. ``retry_unreached``: also those an earlier notice
    did not reach (once their contact details are fixed), moved to the new notice; refused
    when there are none, or when the notice could reach none of its customers. Returns the
    notice, in a list like ``apology_send``'s so that the console, API and CLI show both
    alike."""
    with transaction.atomic():
        # Its status now, not when it was loaded; and one sender at a time per program, so
        # that no payout is told by two notices.
        program = Program.objects.select_for_update().get(pk=program.pk)
        if program.status not in (ProgramStatus.PAYING, ProgramStatus.CLOSED):
            raise Conflict(f"program {program.reference} has paid nobody yet", field="status")
        _check_someone_to_tell(program, retry_unreached=retry_unreached)
        notice = notice_create(
            actor=actor,
            kind=NoticeKind.CREDIT_APPLIED,
            audience=Audience.PROVIDED,
            provider=CREDIT_AUDIENCE,
            outage=_first_outage(program),
            message=message,
        )
        calculation = program.approved_calculation
        assert calculation is not None  # paying programs were approved
        link = CreditNotice.objects.create(notice=notice, program=program, calculation=calculation)
        retrying = _not_reached(program) if retry_unreached else Payout.objects.none()
        retold = _by_notice(_untold(program).filter(credit_notice__isnull=False))
        retried = _by_notice(retrying)
        # Their audience, from now on (the earlier notices' no longer includes them).
        told = retrying.update(credit_notice=link) + _untold(program).update(credit_notice=link)
        _refresh_statistics(told)
        notice = notice_submit(actor=actor, notice=notice)
        if retry_unreached and not notice.recipients:  # the notice and its links roll back
            raise Conflict(
                "nobody to retry can be reached yet: fix their contact details first",
                field="retry_unreached",
            )
        audit.record(
            actor,
            "remedy.credit_notices_send",
            program,
            after={
                "notices": [notice.pk],
                "customers": told,
                "recipients": notice.recipients,
                # Customers a cancelled notice never reached, moved to this one.
                "retold_from_cancelled_notices": retold,
                # Customers a released notice did not reach, moved to this one on request.
                "retried_unreached": sum(retried.values()),
                "retried_from_notices": retried,
            },
        )
    return [notice]


def _check_someone_to_tell(program: Program, *, retry_unreached: bool) -> None:
    """A Conflict when the notice would tell nobody: with ``retry_unreached``, nobody was
    left unreached; without, everyone was told (the message says how many were not reached,
    since they are told again only on request)."""
    if retry_unreached:
        if not _not_reached(program).exists():
            raise Conflict(
                "nobody to retry: every customer a credit notice was sent to was reached or "
                "still has a message on its way",
                field="retry_unreached",
            )
    elif not _untold(program).exists():
        unreached = _not_reached(program).count()
        retry = (
            f"; {unreached:,} of them could not be reached ({NOT_REACHED_WHY}): fix their "
            "contact details, then retry the unreached"
            if unreached
            else ""
        )
        raise Conflict(
            f"every customer with a confirmed credit has been told{retry}", field="status"
        )


def _by_notice(payouts: QuerySet[Payout]) -> dict[str, int]:
    """How many of the payouts each notice they are linked to tells, by notice id."""
    counts = payouts.values("credit_notice__notice_id").annotate(n=Count("pk"))
    return {str(row["credit_notice__notice_id"]): row["n"] for row in counts}


# From this many payouts on, PostgreSQL's statistics must know a notice's new link: to those
# gathered before it, "credit_notice_id = <the new one>" is a row or two, and the planner would
# look each of a million customers up one by one in the statements over the audience (the
# submit's count now, the approver's preview and release later) instead of hashing them.
BIG_NOTICE = 10_000


def _refresh_statistics(told: int) -> None:
    """Statistics that know the payouts just linked, committed with them. On PostgreSQL, for
    a big notice only: a small one is looked up fast either way (ANALYZE samples the table,
    well under a second at a million payouts)."""
    if connection.vendor == "postgresql" and told >= BIG_NOTICE:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE remedy_payout (program_id, credit_notice_id)")


def credit_audience(notice: Notice) -> Condition:
    """The comms audience provider for "credit applied" notices: the customers whose payouts
    the notice tells (``credit_notices_send`` links them right after creating it). A notice
    not linked (yet) reaches nobody."""
    link = CreditNotice.objects.filter(notice_id=notice.pk).values_list("pk", "program_id").first()
    if link is None:
        return NOBODY
    return (
        "c.id IN (SELECT customer_id FROM remedy_payout "
        "WHERE program_id = %s AND credit_notice_id = %s)",
        [link[1], link[0]],
    )


def describe_credit_audiences(notices: Sequence[Notice]) -> dict[int, str]:
    """Whom each "credit applied" notice reaches, for the console: one query for them all."""
    programs = dict(
        CreditNotice.objects.filter(notice__in=notices).values_list(
            "notice_id", "program__reference"
        )
    )
    return {
        notice.pk: f"Customers of {programs[notice.pk]} told of their confirmed credit or refund"
        if notice.pk in programs
        else "Customers told of a confirmed credit (none linked yet)"
        for notice in notices
    }


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
    (amount in units of the program's currency, explanation, method, program reference, the
    link to their own page) and ``currency``, the program's policy's, for ``|money``.
    One query per batch; none for other notices. A customer the notice's program has no payout
    for (a notice composed by hand) gets no amount and the bill-credit wording, so every
    ``credit`` variable exists."""
    if notice.kind != NoticeKind.CREDIT_APPLIED:
        return {}
    link = (
        CreditNotice.objects.filter(notice_id=notice.pk)
        .select_related("program__policy_version")
        .first()
    )
    currency = link.program.policy_version.currency if link else DEFAULT_CURRENCY
    found: dict[int, Mapping[str, Any]] = {
        customer_id: {
            "credit": _credit(0, 0, "", PayoutMethod.BILL_CREDIT, "", None, currency),
            "currency": currency,
        }
        for customer_id in customer_ids
    }
    rows = Payout.objects.filter(
        credit_notice__notice_id=notice.pk, customer_id__in=customer_ids
    ).values_list(
        "customer_id",
        "pk",
        "amount_cents",
        "entitlement__total_cents",
        "entitlement__explanation",
        "method",
        "program__reference",
    )
    for customer_id, payout_id, cents, entitled, explanation, method, reference in rows:
        found[customer_id] = {
            "credit": _credit(cents, entitled, explanation, method, reference, payout_id, currency),
            "currency": currency,
        }
    return found


def interest_sentence(cents: int, entitled_cents: int, currency: str) -> str:
    """Why a refund paid later than the calculation is more than its explanation's total
    (interest runs to the payment date); empty when the amounts agree."""
    if cents == entitled_cents:
        return ""
    return f"With interest to the day it was paid: {format_money(cents, currency)}."


def _credit(
    cents: int,
    entitled_cents: int,
    explanation: str,
    method: str,
    reference: str,
    payout_id: int | None,
    currency: str,
) -> dict[str, Any]:
    """The explanation as a sentence (messages go on after it). A refund paid later than the
    calculation carries interest to its payment date, so it can be more than the explanation's
    total: say so rather than leave two amounts unexplained. ``url``: the customer's own page
    explaining it (``/c/<token>``), what an SMS has room for instead of the formula; empty
    for a customer with no payout."""
    explanation = explanation.strip()
    if explanation and explanation[-1] not in ".!?":
        explanation += "."
    interest = interest_sentence(cents, entitled_cents, currency)
    return {
        "amount": Decimal(cents) / 100,
        "explanation": f"{explanation} {interest}" if interest else explanation,
        "method": method,
        "program_reference": reference,
        "url": "" if payout_id is None else credit_url(payout_id),
    }
