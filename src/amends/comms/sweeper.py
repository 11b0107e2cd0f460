"""Keeps dispatch going when workers die: expired leases back to the queue, and a dispatch
task for every sending notice that has work due but no task waiting for it. Each round also
does the housekeeping and tells commanders of overdue promised updates (``staff_alerts``)."""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from amends.comms import outbox
from amends.comms.models import Delivery, DeliveryStatus, NoticeStatus
from amends.comms.staff_alerts import notify_overdue_updates
from amends.comms.tasks import dispatch_notice
from amends.core.housekeeping import housekeeping
from amends.outages.services import outages_reclassify_open

log = logging.getLogger(__name__)
TASK_PATH = dispatch_notice.module_path
RECLASSIFY_EVERY = 60.0  # seconds: ACMA thresholds are minutes, so once a minute is exact enough

_last_reclassify: float | None = None


def resume_stalled() -> list[int]:
    """Re-queue expired leases; enqueue dispatch for notices with due work and no task ready.

    A task a dead worker was running stays "running" for ever in the task table, so only a
    task still waiting ("ready") counts as someone coming for the notice.
    """
    requeued = outbox.sweep()
    due = set(
        Delivery.objects.filter(
            notice__status=NoticeStatus.SENDING,
            status=DeliveryStatus.QUEUED,
            next_attempt_at__lte=timezone.now(),
        )
        .values_list("notice_id", flat=True)
        .distinct()
    )
    waiting = {
        args[0]
        for args in DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").values_list(
            "args_kwargs__args", flat=True
        )
        if args
    }
    resumed = sorted(due - waiting)
    for notice_id in resumed:
        dispatch_notice.enqueue(notice_id)
    if requeued or resumed:
        log.info("sweeper: %d expired leases re-queued; notices resumed: %s", requeued, resumed)
    return resumed


def reclassify_due() -> int | None:
    """``outages_reclassify_open()`` if this process has not run it in the last
    ``RECLASSIFY_EVERY`` seconds (the crossing time is computed, not this run's, so a late or
    repeated pass records the same moment)."""
    global _last_reclassify
    started = time.monotonic()
    if _last_reclassify is not None and started - _last_reclassify < RECLASSIFY_EVERY:
        return None
    _last_reclassify = started
    return outages_reclassify_open()


def run_forever(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            resume_stalled()
            housekeeping()  # expired public-form rate-limit rows
            notify_overdue_updates()  # commanders whose promised update has passed
            reclassify_due()  # classification crosses thresholds as time passes
        except Exception:  # keep sweeping; the next round retries
            log.exception("sweeper round failed")
        finally:
            close_old_connections()


def start(interval: float) -> threading.Event:
    stop = threading.Event()
    threading.Thread(
        target=run_forever, args=(interval, stop), daemon=True, name="amends-sweeper"
    ).start()
    return stop
