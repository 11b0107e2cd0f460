"""Telling staff what needs them, through the outbox like every other message (retried,
recorded, on the notice dashboard): today, a commander whose promised public update is overdue.

An outage promises "next update by 07:00". When 07:00 passes with no public update (posting
one moves the promise, see ``outages.services.next_promise``), its commander — or, for an
outage nobody commands yet, every commander — gets one email. ``Outage.overdue_notified_for``
remembers which promise was notified, under the outage's row lock, so each missed promise is
told once however many workers run the check; a new promise that passes is told again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from amends.comms.models import (
    Audience,
    Capability,
    Delivery,
    Notice,
    NoticeKind,
    NoticeStatus,
    Priority,
)
from amends.comms.services import wake_dispatcher
from amends.core import audit
from amends.core.roles import Role
from amends.outages.models import OPEN_STATUSES, Outage

log = logging.getLogger(__name__)
ACTOR = "amends:promises"


def overdue_text(outage: Outage) -> tuple[str, str]:
    """(subject, text) of the email telling a commander that a promised update is overdue."""
    promised = timezone.localtime(outage.next_update_by)
    return (
        f"{outage.reference}: public update overdue since {promised:%H:%M}",
        f"The public was promised an update on {outage.reference} ({outage.title}) by "
        f"{promised:%a %d %b %H:%M} ({promised.tzname()}), and none has been posted. "
        f"Post an update or give a new ETR: {settings.SITE_URL}/outages/{outage.reference}/",
    )


def _commanders(outage: Outage) -> list[User]:
    if outage.commander is not None and outage.commander.is_active and outage.commander.email:
        return [outage.commander]
    return list(
        User.objects.filter(is_active=True, groups__name=Role.COMMANDER)
        .exclude(email="")
        .order_by("id")
        .distinct()
    )


def notify_overdue_updates(*, now: datetime | None = None) -> list[str]:
    """Queue one email to the commander(s) of each open outage whose promised update has
    passed and was not yet notified; returns the outages' references."""
    now = now or timezone.now()
    due = Outage.objects.filter(status__in=OPEN_STATUSES, next_update_by__lte=now).filter(
        Q(overdue_notified_for__isnull=True) | ~Q(overdue_notified_for=F("next_update_by"))
    )
    told = []
    for outage_id in due.values_list("pk", flat=True):  # a handful of open outages at most
        with transaction.atomic():
            outage = (
                due.select_for_update(skip_locked=True, of=("self",))
                .select_related("commander")
                .filter(pk=outage_id)
                .first()
            )
            if outage is not None:  # else: another worker has it, or it was updated meanwhile
                _notify(outage, now=now)
                told.append(outage.reference)
    if told:
        log.info("promised updates overdue, commanders told: %s", ", ".join(told))
    return told


def _notify(outage: Outage, *, now: datetime) -> None:
    subject, text = overdue_text(outage)
    staff = _commanders(outage)
    notice = None
    if staff:
        notice = Notice.objects.create(
            outage=outage,
            kind=NoticeKind.STAKEHOLDER,
            audience=Audience.STAFF,
            message=f"{subject}\n\n{text}",  # the subject first (see content.staff_rendered)
            urgent=True,
            status=NoticeStatus.SENDING,
            recipients=len(staff),
            approved_at=now,
            sent_at=now,
        )
        Delivery.objects.bulk_create(
            Delivery(
                notice=notice,
                staff=user,
                channel=Capability.EMAIL,
                address=user.email,
                priority=Priority.PRIORITY_ASSISTANCE,
                next_attempt_at=now,
            )
            for user in staff
        )
        wake_dispatcher(notice.pk)
    else:
        log.warning("%s: update overdue and no commander has an email address", outage.reference)
    Outage.objects.filter(pk=outage.pk).update(overdue_notified_for=outage.next_update_by)
    audit.record(
        ACTOR,
        "outage.update_overdue",
        outage,
        after={
            "next_update_by": outage.next_update_by,
            "notice": notice and notice.pk,
            "told": [user.username for user in staff],
        },
    )
