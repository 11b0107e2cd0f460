"""Background work for communications. Tasks carry ids only; the database holds the work."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from amends.comms import dispatch


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
