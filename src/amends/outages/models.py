"""What is broken, for whom, since when: outages, their scope, timeline, ETR and impact."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.network.models import Customer, NetworkElement, Product, Service, State


class Status(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    RESTORING = "restoring", "Restoring"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.INVESTIGATING, Status.IDENTIFIED, Status.RESTORING, Status.MONITORING)


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class Classification(models.TextChoices):
    """ACMA-style classes (see ``classification.py`` for the thresholds)."""

    MAJOR = "major", "Major outage"
    SIGNIFICANT_LOCAL = "significant_local", "Significant local outage"
    LOCAL = "local", "Local outage"


class Outage(models.Model):
    reference = models.CharField(max_length=20, unique=True)  # OUT-2026-0042
    title = models.CharField(max_length=200)
    public_summary = models.TextField(blank=True)
    cause_public = models.TextField(blank=True, help_text="What we tell customers.")
    resolution_summary = models.TextField(
        blank=True,
        help_text="What happened, in the past tense, given when resolving: what restored, "
        "apology and credit messages tell customers.",
    )
    cause_internal = models.TextField(blank=True)
    # The operator's public words in other languages, e.g. {"zh": {"title": …, "cause_public":
    # …}}; what is missing is said in English (queries.localized).
    translations = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INVESTIGATING)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MAJOR)
    classification = models.CharField(
        max_length=20, choices=Classification.choices, default=Classification.LOCAL
    )
    natural_disaster = models.BooleanField(default=False)
    detected_at = models.DateTimeField()
    started_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    restored_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    etr = models.DateTimeField(null=True, blank=True, help_text="Estimated restoration time.")
    next_update_by = models.DateTimeField(null=True, blank=True)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    alert_source = models.CharField(max_length=50, blank=True)
    alert_key = models.CharField(
        max_length=255, blank=True, help_text="Alert group that opened it (deduplication)."
    )
    restoration_proposed_at = models.DateTimeField(null=True, blank=True)
    # The "next update by" promise the commander was last told had passed (see
    # ``outages.promises``): each missed promise is notified once.
    overdue_notified_for = models.DateTimeField(null=True, blank=True)
    affected_services = models.IntegerField(default=0)
    affected_customers = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["alert_source", "alert_key"]),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ScopeKind(models.TextChoices):
    ELEMENT = "element", "Network element (and everything under it)"
    POSTCODE = "postcode", "Postcode"
    LOCALITY = "locality", "Locality"
    STATE = "state", "State or territory"
    POLYGON = "polygon", "Area (GeoJSON polygon)"
    PRODUCT = "product", "Product"
    SERVICES = "services", "Listed services"


class Degree(models.TextChoices):
    # Stored values compare 'degraded' < 'full', so MAX() over covering items gives the worst.
    FULL = "full", "No service"
    DEGRADED = "degraded", "Degraded"


class ScopeItem(models.Model):
    """One rule saying which services an outage covers (or, with ``include=False``, spares).

    An optional ``product`` narrows any kind of item to that product ("mobile services under
    exchange X"). Each item has its own start and restoration time.
    """

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="scope_items")
    kind = models.CharField(max_length=16, choices=ScopeKind.choices)
    include = models.BooleanField(default=True)
    element = models.ForeignKey(NetworkElement, null=True, blank=True, on_delete=models.PROTECT)
    postcode = models.CharField(max_length=4, blank=True)
    locality = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=3, choices=State.choices, blank=True)
    geojson = models.JSONField(null=True, blank=True)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT)
    degree = models.CharField(max_length=10, choices=Degree.choices, default=Degree.FULL)
    started_at = models.DateTimeField()
    restored_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{'+' if self.include else '−'} {self.describe()}"

    def describe(self) -> str:
        match self.kind:
            case ScopeKind.ELEMENT:
                what = str(self.element)
            case ScopeKind.POSTCODE:
                what = f"postcode {self.postcode}"
            case ScopeKind.LOCALITY:
                what = f"{self.locality.title()} {self.state}"
            case ScopeKind.STATE:
                what = f"all of {self.state}"
            case ScopeKind.POLYGON:
                what = "an area drawn on the map"
            case ScopeKind.PRODUCT:
                what = str(self.product)
            case _:
                what = f"{self.services.count()} listed services"
        if self.product_id and self.kind != ScopeKind.PRODUCT:
            what += f" ({self.product})"
        return what

    @property
    def is_open(self) -> bool:
        return self.restored_at is None


class ScopeCell(models.Model):
    """The H3 cells (resolution 8) a polygon item overlaps, so matching is an indexed join.

    Every service in an inside cell (``edge`` false) is in the polygon; the services of an
    edge cell were checked point by point when the item was added, and those inside it are
    its ScopeService rows (see ``scope.polygon_match``).
    """

    scope_item = models.ForeignKey(ScopeItem, on_delete=models.CASCADE, related_name="cells")
    cell = models.CharField(max_length=16)
    edge = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope_item", "cell"], name="scope_cell_unique")
        ]

    def __str__(self) -> str:
        return self.cell


class ScopeService(models.Model):
    scope_item = models.ForeignKey(ScopeItem, on_delete=models.CASCADE, related_name="services")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope_item", "service"], name="scope_service_unique")
        ]

    def __str__(self) -> str:
        return str(self.service_id)


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"


class Update(models.Model):
    """One entry of the outage's timeline; public ones reach customers and the status page."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="updates")
    visibility = models.CharField(max_length=10, choices=Visibility.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    message = models.TextField()
    author = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.visibility}: {self.message[:40]}"


class SocialPostStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be posted"
    POSTING = "posting", "Being posted"
    POSTED = "posted", "Posted"
    FAILED = "failed", "Failed"


class SocialPost(models.Model):
    """One public update posted (or to be posted) to one social account.

    The row is written before posting and is unique per update and account, so an update is
    never posted twice to the same account however often the task runs; ``account_key`` is a
    hash of the apprise URL (which holds the account's credentials), ``account`` its
    credential-free form for people to read. ``result`` is what apprise answered: apprise
    returns only whether the service accepted the post, never the service's post id.
    """

    update = models.ForeignKey(Update, on_delete=models.CASCADE, related_name="social_posts")
    account_key = models.CharField(max_length=64)
    account = models.CharField(max_length=255)
    status = models.CharField(
        max_length=10, choices=SocialPostStatus.choices, default=SocialPostStatus.PENDING
    )
    text = models.TextField()
    result = models.CharField(max_length=255, blank=True)
    attempts = models.SmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["update", "account_key"], name="social_post_once")
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.account} {self.status}"


class EtrChange(models.Model):
    """The ETR's history, each with the promise of when the next update comes."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="etr_changes")
    etr = models.DateTimeField(null=True, blank=True)
    next_update_by = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    author = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.outage_id} ETR {self.etr}"


class ClassificationChange(models.Model):
    outage = models.ForeignKey(
        Outage, on_delete=models.CASCADE, related_name="classification_changes"
    )
    classification = models.CharField(max_length=20, choices=Classification.choices)
    reason = models.TextField()
    facts = models.JSONField(default=dict)
    # When the threshold was actually crossed (e.g. start + 60 min), not when this was written.
    crossed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.classification}"


class EndReason(models.TextChoices):
    RESTORED = "restored", "Restored"
    SCOPE_CHANGED = "scope_changed", "No longer in scope"


class Impact(models.Model):
    """One affected service's window in one outage.

    A service has at most one open window per outage (``window_end`` null); if it is affected
    again later (a scope widened, a customer says "still out"), a new window starts, so the time
    in between is never counted.

    Rows are only ever written by ``resolve_impact``'s set-based SQL, which selects them from
    existing services, so the references hold by construction; the foreign keys carry no
    database constraint because checking three of them per row would double the time to
    resolve a national outage. Django still applies ``on_delete`` for deletes through the ORM.
    """

    outage = models.ForeignKey(
        Outage, on_delete=models.CASCADE, related_name="impacts", db_constraint=False
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    degree = models.CharField(max_length=10, choices=Degree.choices, default=Degree.FULL)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["outage", "service"],
                condition=Q(window_end__isnull=True),
                name="impact_one_open_window",
            )
        ]

    def __str__(self) -> str:
        return f"{self.outage_id}/{self.service_id} from {self.window_start}"


class ReportOutcome(models.TextChoices):
    OPEN = "", "Waiting for the commander"
    RESTORED = "restored", "Restored"
    DISMISSED = "dismissed", "Dismissed"


class StillOutReport(models.Model):
    """A customer's "still out" that reopened some of their services in an outage: the
    commander's task until they restore those services or dismiss the report."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="still_out_reports")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    services = models.IntegerField(help_text="How many services the report reopened.")
    reported_at = models.DateTimeField()
    outcome = models.CharField(
        max_length=10, choices=ReportOutcome.choices, blank=True, default=ReportOutcome.OPEN
    )
    handled_by = models.CharField(max_length=150, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["reported_at", "id"]

    def __str__(self) -> str:
        return f"{self.outage_id} still out: customer {self.customer_id} ({self.outcome or 'open'})"
