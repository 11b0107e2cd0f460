"""What the status page remembers: each publication's outcome, and each outage's public
footprint (areas and service types), so history pages need not re-aggregate old impact."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from amends.outages.models import Outage


class PublicationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Published"
    FAILED = "failed", "Failed"


class Publication(models.Model):
    """One attempt to render and switch in the public site.

    At most one row is ``queued`` at a time (a partial unique constraint): that is how
    ``request_publish`` deduplicates a burst of public changes into one publish.
    """

    status = models.CharField(
        max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.QUEUED
    )
    trigger = models.CharField(max_length=20, help_text="task, console, command or first-request")
    requested_by = models.CharField(max_length=150, blank=True)
    target = models.CharField(max_length=500, blank=True, help_text="Publish root directory.")
    version = models.CharField(max_length=64, blank=True, help_text="Directory switched in.")
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    file_count = models.IntegerField(default=0)
    reused_files = models.IntegerField(
        default=0, help_text="Unchanged files linked from the previous version."
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="queued"),
                name="statuspage_one_queued_publication",
            )
        ]

    def __str__(self) -> str:
        return f"publication {self.pk} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class OutageDigest(models.Model):
    """An outage's impact grouped by state, postcode, locality, product kind and degree.

    ``rows`` holds ``[state, postcode, locality, kind, degree, services, still_affected]``
    lists. Never a customer or a service id: only what the public may see. Open and recently
    resolved outages are re-aggregated on every publish; settled ones are read from here.
    """

    outage = models.OneToOneField(
        Outage, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    rows = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"digest of outage {self.outage_id}"
