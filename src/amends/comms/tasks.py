"""Background work for communications. Tasks carry ids only; the database holds the work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from amends.comms import dispatch
from amends.comms.models import STALE_ON_RESTORE, Notice, NoticeStatus


@task()
def dispatch_notice(notice_id: int) -> str:
    """Send what is due for a notice; come back later for retries, quiet hours and held
    messages, or straight away when the time budget ran out with work still due."""
    state = dispatch.run_notice(notice_id)
    if state == "more":
        dispatch_notice.enqueue(notice_id)
    elif state == "later":
        later = timezone.now() + timedelta(seconds=settings.AMENDS_DISPATCH_RECHECK_SECONDS)
        dispatch_notice.using(run_after=later).enqueue(notice_id)
    return state


def wake_on_restoration(sender: object, outage_id: int, **kwargs: Any) -> None:
    """Receiver of ``outages.signals.windows_closed``: dispatch the outage's acknowledge,
    update and ETR-changed notices still sending now, so that the messages of customers who
    are back are superseded at once (held ones included) instead of at the next recheck."""
    sending = Notice.objects.filter(
        outage_id=outage_id, kind__in=STALE_ON_RESTORE, status=NoticeStatus.SENDING
    ).values_list("pk", flat=True)
    for notice_id in sending:
        dispatch_notice.enqueue(notice_id)
