"""Background work for the status page: publishing, and announcing public updates to status
subscribers and social accounts. Tasks carry ids only; the database holds the work."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from amends.comms import subscriber_messages
from amends.comms.dispatch import backoff
from amends.outages.models import Update
from amends.statuspage import publish, services, social


@task()
def publish_site_task(publication_id: int) -> str:
    """Publish for a queued publication; returns its final status ("skipped" if another
    worker already took it)."""
    publication = services.claim_queued(publication_id)
    if publication is None:
        return "skipped"
    return publish.publish_site(trigger="task", publication=publication).status


@task()
def notify_subscribers_task(update_id: int, change: str) -> int:
    """Create the subscribers' notice of one public update; returns how many it reaches
    (0 when it was already created)."""
    update = Update.objects.get(pk=update_id)
    notice = subscriber_messages.notify_subscribers(update=update, change=change)
    return notice.recipients if notice is not None else 0


@task()
def send_confirmation_task(subscriber_id: int, attempt: int = 1) -> str:
    """Send a subscription's confirmation, trying a temporary failure again with backoff."""
    result = subscriber_messages.send_confirmation(subscriber_id)
    if result is None:
        return "nothing to send"
    if result.ok:
        return "sent"
    if result.permanent or attempt >= settings.AMENDS_MAX_ATTEMPTS:
        return "failed"
    later = timezone.now() + backoff(attempt)
    send_confirmation_task.using(run_after=later).enqueue(subscriber_id, attempt + 1)
    return "retrying"


@task()
def post_social_task(update_id: int) -> str:
    """Post a public update to the social accounts; come back for temporary failures."""
    state = social.post_update(update_id)
    if state == "later":
        later = timezone.now() + timedelta(seconds=social.retry_delay(update_id))
        post_social_task.using(run_after=later).enqueue(update_id)
    return state
