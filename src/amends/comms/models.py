"""Who is told what, when, on which channel: templates, notices and the delivery outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.network.models import Customer
from amends.outages.models import Outage


class NoticeKind(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Acknowledge (we know, and when it will be back)"
    UPDATE = "update", "Progress update"
    ETR_CHANGED = "etr_changed", "Restoration time changed"
    RESTORED = "restored", "Restored"
    STILL_OUT_CHECK = "still_out_check", "Still out? check"
    CREDIT_APPLIED = "credit_applied", "Credit applied"
    APOLOGY = "apology", "Apology"
    SURVEY = "survey", "Survey"
    STAKEHOLDER = "stakeholder", "Stakeholder notice"
    CUSTOM = "custom", "Custom"


URGENT_KINDS = (NoticeKind.ACKNOWLEDGE, NoticeKind.RESTORED, NoticeKind.ETR_CHANGED)


class Capability(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    PUSH = "push", "App push"
    VOICE = "voice", "Voice call"
    WEBHOOK = "webhook", "Webhook"
    SOCIAL = "social", "Social post"


CUSTOMER_CHANNELS = (Capability.EMAIL, Capability.SMS, Capability.PUSH, Capability.VOICE)


class MessageTemplate(models.Model):
    """An operator's own wording for one kind × channel × language, replacing the shipped
    default. Saved only if it renders for a sample recipient; every save is a new version."""

    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    channel = models.CharField(max_length=10, choices=Capability.choices)
    language = models.CharField(max_length=16)
    subject = models.TextField(blank=True, help_text="Email subject or push title.")
    body = models.TextField(help_text="Text: email text part, SMS, push, voice script, post.")
    html = models.TextField(blank=True, help_text="Email HTML part.")
    version = models.PositiveIntegerField()
    author = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "channel", "language", "version"], name="template_version_unique"
            )
        ]
        ordering = ["kind", "channel", "language", "-version"]

    def __str__(self) -> str:
        return f"{self.kind}/{self.channel}/{self.language} v{self.version}"


class Audience(models.TextChoices):
    ALL_AFFECTED = "all_affected", "Everyone affected"
    STILL_AFFECTED = "still_affected", "Everyone still affected"
    ETR_CHANGED = "etr_changed", "Those whose restoration time changed"
    RESTORED = "restored", "Those restored"
    SEGMENT = "segment", "A segment of those affected"
    LIST = "list", "A list of customers"


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"
    SUPERSEDED = "superseded", "Superseded"


class Notice(models.Model):
    """One message of one kind about one outage to one audience."""

    outage = models.ForeignKey(
        Outage, null=True, blank=True, on_delete=models.PROTECT, related_name="notices"
    )
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    audience_segment = models.CharField(max_length=20, blank=True)
    audience_list = models.JSONField(default=list, blank=True)  # customer external ids
    message = models.TextField(blank=True, help_text="The notice's own words ({{ message }}).")
    urgent = models.BooleanField(default=False, help_text="Sent even in quiet hours.")
    status = models.CharField(
        max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="superseded_by"
    )
    recipients = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    HELD = "held", "Held until restoration"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"
    DEAD = "dead", "Gave up after retries"
    CANCELLED = "cancelled", "Cancelled"


OPEN_DELIVERY = (DeliveryStatus.QUEUED, DeliveryStatus.HELD, DeliveryStatus.SENDING)


class Priority(models.IntegerChoices):
    PRIORITY_ASSISTANCE = 0, "Priority assistance"
    BUSINESS = 1, "Business and government"
    EVERYONE = 2, "Everyone else"


class Delivery(models.Model):
    """One message to one customer on one channel: the outbox row.

    Created set-based when a notice is approved; claimed by a worker with a lease
    (``status = sending``, ``lease_until``), so a crashed worker's batch is taken over after
    the lease expires; the ``idempotency_key`` goes to the provider so that a batch sent again
    after a crash is not delivered twice.
    """

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    channel = models.CharField(max_length=10, choices=Capability.choices)
    address = models.CharField(max_length=255)
    language = models.CharField(max_length=16, default="en")
    priority = models.SmallIntegerField(choices=Priority.choices, default=Priority.EVERYONE)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.SmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=30, blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    fallback_from = models.CharField(max_length=10, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "customer", "channel"], name="delivery_one_per_channel"
            ),
        ]
        indexes = [
            models.Index(fields=["notice", "status", "priority", "id"], name="delivery_work_queue"),
            models.Index(
                fields=["lease_until"], name="delivery_leases", condition=Q(status="sending")
            ),
            models.Index(fields=["provider", "provider_id"], name="delivery_provider_id"),
            models.Index(fields=["customer"], name="delivery_customer"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.channel} to customer {self.customer_id} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"n{self.notice_id}-c{self.customer_id}-{self.channel}"


class RateBucket(models.Model):
    """A provider's token bucket (see ``ratelimit.acquire``), shared by all workers."""

    provider = models.CharField(max_length=30, primary_key=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.provider}: {self.tokens:.0f} tokens"


class Keyword(models.TextChoices):
    STATUS = "status", "STATUS"
    STOP = "stop", "STOP"
    START = "start", "START"
    STILL_OUT = "still_out", "STILL OUT"
    NONE = "", "Free text"


class InboundMessage(models.Model):
    """A message a customer (or anyone) sent us: kept, linked to the customer and outage when
    known, never dropped — unknown senders included."""

    channel = models.CharField(max_length=10, choices=Capability.choices)
    sender = models.CharField(max_length=255)
    text = models.TextField()
    keyword = models.CharField(max_length=10, choices=Keyword.choices, blank=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outage = models.ForeignKey(
        Outage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply = models.TextField(blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["received_at"])]

    def __str__(self) -> str:
        return f"{self.channel} from {self.sender}: {self.text[:30]}"
