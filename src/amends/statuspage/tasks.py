"""Background work for the status page. The task carries a publication id only."""

from __future__ import annotations

from django_tasks import task

from amends.statuspage import publish, services


@task()
def publish_site_task(publication_id: int) -> str:
    """Publish for a queued publication; returns its final status ("skipped" if another
    worker already took it)."""
    publication = services.claim_queued(publication_id)
    if publication is None:
        return "skipped"
    return publish.publish_site(trigger="task", publication=publication).status
