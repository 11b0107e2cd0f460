"""``request_publish``: after commit, one queued publication for a burst of changes, claimed
by exactly one worker; a lost task does not block publishing forever."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from amends.statuspage import services
from amends.statuspage.models import Publication, PublicationStatus
from amends.statuspage.tasks import publish_site_task


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_queues_one_publication_after_commit(site_root: Path) -> None:
    with transaction.atomic():
        for _ in range(5):
            services.request_publish()
        assert not Publication.objects.exists()  # nothing before the commit
    queued = Publication.objects.get()
    assert queued.status == PublicationStatus.QUEUED and queued.trigger == "task"
    task = DBTaskResult.objects.get()
    assert (
        task.task_path.endswith("publish_site_task") and task.priority == services.PUBLISH_PRIORITY
    )
    assert task.args_kwargs["args"] == [queued.pk]


@pytest.mark.django_db
def test_the_task_claims_once_and_publishes(site_root: Path) -> None:
    queued = services.enqueue_publish()
    assert queued is not None and services.enqueue_publish() is None
    assert publish_site_task.call(queued.pk) == PublicationStatus.SUCCEEDED
    assert publish_site_task.call(queued.pk) == "skipped"  # a duplicate delivery of the task
    done = Publication.objects.get()
    assert done.status == PublicationStatus.SUCCEEDED and done.file_count > 10
    assert (site_root / "current/index.html").exists()
    assert services.enqueue_publish() is not None  # the next change queues again


@pytest.mark.django_db
def test_a_lost_task_is_expired_so_publishing_goes_on(site_root: Path) -> None:
    lost = services.enqueue_publish()
    assert lost is not None
    Publication.objects.filter(pk=lost.pk).update(
        requested_at=timezone.now() - services.QUEUED_STALE_AFTER - timedelta(seconds=1)
    )
    fresh = services.enqueue_publish()
    assert fresh is not None
    lost.refresh_from_db()
    assert lost.status == PublicationStatus.FAILED and "Never started" in lost.error
