"""Asking for a publish. Outage services call ``request_publish()`` after every public change;
a burst of changes (a declare, three updates and an ETR in one minute) becomes few publishes,
because at most one publication waits in the queue at a time and it renders whatever the
database holds when it starts. ``announce_update()`` queues the messages to status
subscribers and the social posts about a public timeline entry.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from amends.outages.models import Update
from amends.statuspage.models import Publication, PublicationStatus
from amends.statuspage.publish import default_root

logger = logging.getLogger(__name__)

# A queued publication older than this never reached a worker (the task was lost, or no worker
# runs); it is marked failed so the next change can queue a fresh one.
QUEUED_STALE_AFTER = timedelta(minutes=10)
# Ahead of bulk message dispatch on the shared task queue: the page is what everyone reads.
PUBLISH_PRIORITY = 50


def request_publish() -> None:
    """Publish the site after the current transaction commits (at once when not in one)."""
    transaction.on_commit(enqueue_publish)


def _expire_stale_queue() -> None:
    now = timezone.now()
    Publication.objects.filter(
        status=PublicationStatus.QUEUED, requested_at__lt=now - QUEUED_STALE_AFTER
    ).update(
        status=PublicationStatus.FAILED,
        finished_at=now,
        error="Never started: no task worker picked it up within 10 minutes.",
    )


def enqueue_publish() -> Publication | None:
    """Queue one publication and its task, unless one is already waiting (it will include
    this change, since it reads the database when it starts). Returns the new row, if any."""
    from amends.statuspage.tasks import publish_site_task

    _expire_stale_queue()
    try:
        with transaction.atomic():
            queued = Publication.objects.create(
                status=PublicationStatus.QUEUED,
                trigger="task",
                target=str(default_root()),
                requested_at=timezone.now(),
            )
    except IntegrityError:  # the partial unique constraint: one is queued already
        return None
    try:
        publish_site_task.using(priority=PUBLISH_PRIORITY).enqueue(queued.pk)
    except Exception as exc:
        logger.exception("could not enqueue the status page publish")
        Publication.objects.filter(pk=queued.pk).update(
            status=PublicationStatus.FAILED,
            finished_at=timezone.now(),
            error=f"Could not queue the task: {type(exc).__name__}: {exc}",
        )
        return None
    return queued


def claim_queued(publication_id: int) -> Publication | None:
    """Take a queued publication for this worker. The conditional UPDATE makes sure two workers
    given the same task (a retry, a duplicate) do not both publish it."""
    claimed = Publication.objects.filter(pk=publication_id, status=PublicationStatus.QUEUED).update(
        status=PublicationStatus.RUNNING, started_at=timezone.now()
    )
    return Publication.objects.get(pk=publication_id) if claimed else None


# Changes the public is told about beyond the page itself. Closing only files a resolved
# outage away: nothing new for subscribers or followers.
ANNOUNCED_CHANGES = ("declare", "update", "etr", "restore", "resolve")


def announce_update(update: Update, *, change: str) -> None:
    """After the transaction commits, queue the messages to status subscribers and the posts
    to the operator's social accounts about one public timeline entry, by id."""
    if change not in ANNOUNCED_CHANGES:
        return
    update_id = update.pk
    transaction.on_commit(lambda: _enqueue_announcements(update_id, change))


def _enqueue_announcements(update_id: int, change: str) -> None:
    from amends.statuspage.tasks import notify_subscribers_task, post_social_task

    try:
        notify_subscribers_task.using(priority=PUBLISH_PRIORITY).enqueue(update_id, change)
        if settings.AMENDS_SOCIAL_URLS:
            post_social_task.using(priority=PUBLISH_PRIORITY).enqueue(update_id)
    except Exception:  # the change is committed already: a lost announcement is logged
        logger.exception("could not queue the announcements of update %s", update_id)
