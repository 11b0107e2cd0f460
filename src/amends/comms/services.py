"""Every write to a notice: create, submit, approve (a second person above the threshold),
cancel; and the release that turns an approved notice into outbox rows, set-based."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from amends.comms import audience as audiences
from amends.comms.models import (
    OPEN_DELIVERY,
    URGENT_KINDS,
    Audience,
    Delivery,
    DeliveryStatus,
    Notice,
    NoticeKind,
    NoticeStatus,
)
from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.core.roles import Role, has_role
from amends.network.models import Customer, Segment
from amends.outages.models import Outage

APPROVERS = (Role.APPROVER, Role.COMMUNICATIONS, Role.ADMIN)
AUTHORS = (Role.COMMUNICATIONS, Role.COMMANDER, Role.ADMIN)
# A newer notice of one of these kinds replaces what an older one has not yet sent.
SUPERSEDING_KINDS = (NoticeKind.UPDATE, NoticeKind.ETR_CHANGED)


def _require(actor: User, roles: Sequence[str], doing: str) -> None:
    if not has_role(actor, *roles):
        raise AmendsError(f"your account has no role that may {doing}", status=403)


def notice_create(
    *,
    actor: User,
    kind: str,
    audience: str,
    outage: Outage | None = None,
    segment: str = "",
    provider: str = "",
    customers: Sequence[str] = (),
    message: str = "",
    urgent: bool | None = None,
    include_already_told: bool = False,
) -> Notice:
    """A draft notice; nothing is sent until it is submitted (and approved, when large).
    ``provider`` names the registered audience provider of a ``provided`` audience (an app
    sending its own notices, e.g. remediation's "remedy.credit"). ``include_already_told``:
    a restored, apology, credit or survey notice also reaches customers already told that
    kind about the outage (see ``audience.already_told_condition``)."""
    _require(actor, AUTHORS, "write notices")
    if kind not in NoticeKind.values:
        raise AmendsError(f"{kind!r} is not a notice kind", field="kind")
    if audience not in Audience.values:
        raise AmendsError(
            f"{audience!r} is not an audience ({', '.join(Audience.values)})", field="audience"
        )
    if audience == Audience.STAFF:
        raise AmendsError("staff are told by Amends itself, not by notices", field="audience")
    if audience == Audience.SUBSCRIBERS:
        raise AmendsError(
            "status subscribers are told on every public change of an outage; "
            "post a public update instead",
            field="audience",
        )
    if audience != Audience.LIST and outage is None:
        raise AmendsError("this audience needs an outage", field="outage")
    if audience == Audience.SEGMENT and segment not in Segment.values:
        raise AmendsError(f"{segment!r} is not a segment", field="segment")
    if provider and audience != Audience.PROVIDED:
        raise AmendsError("only a provided audience has a provider", field="provider")
    if audience == Audience.LIST:
        _check_customers(customers)
    with transaction.atomic():
        notice = Notice.objects.create(
            outage=outage,
            kind=kind,
            audience=audience,
            audience_segment=segment,
            audience_provider=provider,
            audience_list=list(customers),
            message=message,
            urgent=kind in URGENT_KINDS if urgent is None else urgent,
            include_already_told=include_already_told,
            author=actor,
        )
        notice.recipients = audiences.count_audience(notice).reachable
        notice.save(update_fields=["recipients"])
        audit.record(
            actor,
            "comms.notice_create",
            notice,
            after={
                "kind": kind,
                "audience": audience,
                "include_already_told": include_already_told,
                "outage": outage.reference if outage else None,
                # A provided audience is linked by its app after this; submit counts it.
                "recipients": None if audience == Audience.PROVIDED else notice.recipients,
            },
        )
    return notice


def _check_customers(external_ids: Sequence[str]) -> None:
    if not external_ids:
        raise AmendsError("name at least one customer", field="customers")
    found = set(
        Customer.objects.filter(external_id__in=external_ids).values_list("external_id", flat=True)
    )
    missing = [c for c in external_ids if c not in found]
    if missing:
        raise AmendsError(f"unknown customer(s): {', '.join(missing[:5])}", field="customers")


def _locked(notice: Notice, *expected: str) -> Notice:
    current = Notice.objects.select_for_update().get(pk=notice.pk)
    if current.status not in expected:
        raise Conflict(f"notice {current.pk} is {current.get_status_display().lower()}")
    return current


def notice_submit(*, actor: User, notice: Notice) -> Notice:
    """Send a small notice at once; a large one waits for a second person's approval."""
    _require(actor, AUTHORS, "send notices")
    with transaction.atomic():
        notice = _locked(notice, NoticeStatus.DRAFT)
        notice.recipients = audiences.count_audience(notice).reachable
        if notice.recipients > settings.AMENDS_APPROVAL_THRESHOLD:
            notice.status = NoticeStatus.AWAITING_APPROVAL
            notice.save(update_fields=["status", "recipients"])
            audit.record(
                actor,
                "comms.notice_submit",
                notice,
                after={"status": notice.status, "recipients": notice.recipients},
            )
            return notice
        notice.save(update_fields=["recipients"])
        return _release(actor, notice, approver=None)


def notice_approve(*, actor: User, notice: Notice) -> Notice:
    """Four eyes: someone other than the author, with an approving role, releases it."""
    _require(actor, APPROVERS, "approve notices")
    with transaction.atomic():
        notice = _locked(notice, NoticeStatus.AWAITING_APPROVAL)
        if notice.author_id == actor.pk:
            raise AmendsError("a second person must approve a notice you wrote", status=403)
        return _release(actor, notice, approver=actor)


def notice_cancel(*, actor: User, notice: Notice) -> Notice:
    """Stop a notice: what has not been handed to a provider yet is never sent."""
    _require(actor, AUTHORS + APPROVERS, "cancel notices")
    with transaction.atomic():
        notice = _locked(
            notice,
            NoticeStatus.DRAFT,
            NoticeStatus.AWAITING_APPROVAL,
            NoticeStatus.APPROVED,
            NoticeStatus.SENDING,
        )
        stopped = _cancel_open_deliveries(notice, reason="cancelled")
        notice.status = NoticeStatus.CANCELLED
        notice.finished_at = timezone.now()
        notice.save(update_fields=["status", "finished_at"])
        audit.record(actor, "comms.notice_cancel", notice, after={"unsent": stopped})
    return notice


def _cancel_open_deliveries(
    notice: Notice, *, reason: str, status: str = DeliveryStatus.CANCELLED
) -> int:
    # A delivery a worker holds (sending) is already with the provider or about to be: it is
    # left to finish; only queued and held ones are stopped.
    return Delivery.objects.filter(
        notice=notice, status__in=(DeliveryStatus.QUEUED, DeliveryStatus.HELD)
    ).update(status=status, error=reason, finished_at=timezone.now())


def _supersede_older(notice: Notice) -> list[int]:
    if notice.kind not in SUPERSEDING_KINDS or notice.outage_id is None:
        return []
    older = (
        Notice.objects.select_for_update()
        .filter(
            outage_id=notice.outage_id,
            kind__in=SUPERSEDING_KINDS,
            status__in=(
                NoticeStatus.APPROVED,
                NoticeStatus.SENDING,
                NoticeStatus.AWAITING_APPROVAL,
            ),
        )
        .exclude(pk=notice.pk)
        .exclude(audience=Audience.SUBSCRIBERS)  # they supersede among themselves
    )
    superseded = []
    for old in older:
        _cancel_open_deliveries(
            old, reason=f"superseded by notice {notice.pk}", status=DeliveryStatus.SUPERSEDED
        )
        old.status = NoticeStatus.SUPERSEDED
        old.finished_at = timezone.now()
        old.save(update_fields=["status", "finished_at"])
        superseded.append(old.pk)
    notice.supersedes_id = superseded[-1] if superseded else None
    return superseded


def wake_dispatcher(notice_id: int) -> None:
    """Enqueue dispatch once the transaction that created the work commits, by id."""
    from amends.comms.tasks import dispatch_notice  # tasks → dispatch → services: import late

    transaction.on_commit(lambda: dispatch_notice.enqueue(notice_id))


def _release(actor: User, notice: Notice, *, approver: Any) -> Notice:
    """Create one delivery per reachable customer (set-based) and wake the dispatchers."""
    now = timezone.now()
    superseded = _supersede_older(notice)
    notice.recipients = audiences.insert_deliveries(notice)
    notice.status = NoticeStatus.SENDING
    notice.approved_by = approver
    notice.approved_at = notice.sent_at = now
    notice.save(
        update_fields=[
            "status",
            "approved_by",
            "approved_at",
            "sent_at",
            "recipients",
            "supersedes",
        ]
    )
    audit.record(
        actor,
        "comms.notice_release",
        notice,
        after={
            "recipients": notice.recipients,
            "approved_by": approver.get_username() if approver else None,
            "superseded": superseded,
        },
    )
    wake_dispatcher(notice.pk)
    return notice


def deliveries_retry(*, actor: User, notice: Notice) -> int:
    """Give failed and dead deliveries of a sending notice another go (attempts start again);
    returns how many were queued. One per recipient, their first channel's (it falls back
    again as it did), and none for a recipient whose message on another channel reached them
    or is still on its way: never a second message."""
    _require(actor, AUTHORS + APPROVERS, "retry deliveries")
    with transaction.atomic():
        notice = _locked(notice, NoticeStatus.SENDING, NoticeStatus.SENT)
        retryable = (DeliveryStatus.FAILED, DeliveryStatus.DEAD)
        # The notice's other deliveries to the same recipient (NULL matches nothing).
        same_recipient = Delivery.objects.filter(notice_id=OuterRef("notice_id")).filter(
            Q(customer_id=OuterRef("customer_id")) | Q(subscriber_id=OuterRef("subscriber_id"))
        )
        live = (*OPEN_DELIVERY, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
        failed = Delivery.objects.filter(notice=notice, status__in=retryable).exclude(
            Exists(same_recipient.filter(status__in=live))
        )
        failed = failed.exclude(
            Exists(same_recipient.filter(status__in=retryable, pk__lt=OuterRef("pk")))
        )
        if notice.audience == Audience.PROVIDED:
            # The providing app may have moved a customer to a later notice (remediation tells
            # the not-reached again by a new one): this one's message is no longer theirs. The
            # condition is the provider's SQL with its values as parameters.
            condition, params = audiences.audience_condition(notice)
            members = f"SELECT c.id FROM network_customer c WHERE {condition}"  # noqa: S608
            failed = failed.filter(customer_id__in=RawSQL(members, params))  # noqa: S611
        retried = failed.update(
            status=DeliveryStatus.QUEUED,
            attempts=0,
            error="",
            finished_at=None,
            next_attempt_at=timezone.now(),
        )
        if retried and notice.status == NoticeStatus.SENT:
            notice.status, notice.finished_at = NoticeStatus.SENDING, None
            notice.save(update_fields=["status", "finished_at"])
        audit.record(actor, "comms.deliveries_retry", notice, after={"retried": retried})
        if retried:
            wake_dispatcher(notice.pk)
    return retried
