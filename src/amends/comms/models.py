"""Who is told what, when, on which channel: templates, notices and the delivery outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.network.models import Customer
from amends.outages.models import Outage, Update


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
# What a customer's one-click unsubscribe stops (unless the notice is marked urgent): messages
# they can do without. Outage notices about their own services, updates included, still come,
# and so does the word that a credit is on its way.
OPTIONAL_KINDS = (NoticeKind.APOLOGY, NoticeKind.SURVEY, NoticeKind.CUSTOM)
# What these say ("it went down", "new fix time") is false once the customer is back: their
# messages not yet handed to a provider are superseded when the customer is restored.
STALE_ON_RESTORE = (NoticeKind.ACKNOWLEDGE, NoticeKind.UPDATE, NoticeKind.ETR_CHANGED)
# Said once per outage: a customer already told (or being told) is left out of a second one,
# unless the author asks to send again (``Notice.include_already_told``).
ONCE_PER_OUTAGE = (
    NoticeKind.RESTORED,
    NoticeKind.APOLOGY,
    NoticeKind.CREDIT_APPLIED,
    NoticeKind.SURVEY,
)


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
    SUBSCRIBERS = "subscribers", "Status page subscribers"
    # Staff told by Amends itself (e.g. a commander whose promised update is overdue, see
    # ``comms.staff_alerts``); never chosen by an author.
    STAFF = "staff", "Staff"
    # Chosen by the provider ``audience_provider`` names (see ``comms.audience_providers``).
    PROVIDED = "provided", "Chosen by another app"


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
    # The registered provider that chooses a ``provided`` audience (e.g. "remedy.credit").
    audience_provider = models.CharField(max_length=40, blank=True)
    audience_list = models.JSONField(default=list, blank=True)  # customer external ids
    message = models.TextField(blank=True, help_text="The notice's own words ({{ message }}).")
    urgent = models.BooleanField(default=False, help_text="Sent even in quiet hours.")
    include_already_told = models.BooleanField(
        default=False,
        help_text="Also send to customers already told this kind of notice about this outage.",
    )
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
    update = models.ForeignKey(
        Update,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The public timeline entry a status-subscriber notice tells about.",
    )
    recipients = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["update", "audience"],
                condition=Q(update__isnull=False),
                name="notice_once_per_update",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def audience_text(self) -> str:
        """Whom it reaches, for the console: "A segment of those affected: small_business",
        or in a providing app's words ("Customers of REM-… told of …")."""
        if self.audience == Audience.PROVIDED:
            from amends.comms.audience_providers import describe  # it imports this module

            return describe(self)
        text = str(self.get_audience_display())
        if self.audience_segment:
            text += f": {self.audience_segment}"
        if self.audience_list:
            text += f" ({len(self.audience_list)} listed)"
        return text


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
    SUPERSEDED = "superseded", "Superseded (out of date)"


OPEN_DELIVERY = (DeliveryStatus.QUEUED, DeliveryStatus.HELD, DeliveryStatus.SENDING)
# A customer has been told (or is being told) what a delivery in one of these says.
TOLD_OR_TELLING = (*OPEN_DELIVERY, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


class Priority(models.IntegerChoices):
    PRIORITY_ASSISTANCE = 0, "Priority assistance"
    BUSINESS = 1, "Business and government"
    EVERYONE = 2, "Everyone else"


class SubscriptionTopic(models.TextChoices):
    POSTCODE = "postcode", "Postcode"
    STATE = "state", "State or territory"
    PRODUCT = "product", "Product"


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Waiting for confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


SUBSCRIBER_CHANNELS = (Capability.EMAIL, Capability.SMS, Capability.WEBHOOK)


class Subscriber(models.Model):
    """Anyone (customer or not) who asked the status page to tell them about outages in one
    postcode, state or product (``topic`` + ``value``: ``postcode``/``2000``, ``state``/``NSW``,
    ``product``/product code) on one channel and address.

    A row is one subscription; one address may hold several. Nothing but the confirmation is
    sent until it is confirmed (double opt-in). Its links' tokens are derived from the random
    ``token_salt`` under the secret key and looked up by their SHA-256 (see
    ``amends.comms.subscribers``), so the database never holds a usable token.
    """

    channel = models.CharField(max_length=10, choices=Capability.choices)
    address = models.CharField(max_length=255, help_text="Email, E.164 mobile or webhook URL.")
    topic = models.CharField(max_length=10, choices=SubscriptionTopic.choices)
    value = models.CharField(max_length=64)
    language = models.CharField(max_length=16, default="en")
    status = models.CharField(
        max_length=12, choices=SubscriberStatus.choices, default=SubscriberStatus.PENDING
    )
    token_salt = models.CharField(max_length=32)
    confirm_hash = models.CharField(max_length=64, unique=True)
    unsubscribe_hash = models.CharField(max_length=64, unique=True)
    code_attempts = models.SmallIntegerField(default=0)
    created_at = models.DateTimeField()
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address", "topic", "value"], name="subscriber_unique_topic"
            )
        ]
        indexes = [
            models.Index(fields=["topic", "value"], name="subscriber_topic"),
            models.Index(fields=["channel", "address"], name="subscriber_address"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} subscriber #{self.pk} to {self.topic} {self.value} ({self.status})"


class Delivery(models.Model):
    """One message to one customer, status-page subscriber or staff user on one channel: the
    outbox row.

    Created set-based when a notice is approved; claimed by a worker with a lease
    (``status = sending``, ``lease_until``, ``lease_token``; renewed while the worker is busy
    with it), so a crashed worker's batch is taken over after the lease expires; the
    ``idempotency_key`` goes to the provider so that a batch sent again after a crash is not
    delivered twice.
    """

    # No database-level foreign keys and no automatic indexes on these three: a notice's rows
    # are written by one INSERT … SELECT that takes its ids from the rows it joins, and a
    # constraint would check every one of a million rows again at commit; the indexes below
    # (Meta) cover each lookup by notice, customer or subscriber.
    notice = models.ForeignKey(
        Notice,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    subscriber = models.ForeignKey(
        Subscriber,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
        db_constraint=False,
        db_index=False,
    )
    # A staff user told by Amends itself (see ``Audience.STAFF``); email only.
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
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
    # Which claim holds the row while it is ``sending`` (random per claimed batch): a worker
    # renews, records and sends only the rows that still carry its own token, never a batch
    # the sweeper gave to another worker after its lease ran out.
    lease_token = models.BigIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=30, blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    fallback_from = models.CharField(max_length=10, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False, subscriber__isnull=True, staff__isnull=True)
                | Q(customer__isnull=True, subscriber__isnull=False, staff__isnull=True)
                | Q(customer__isnull=True, subscriber__isnull=True, staff__isnull=False),
                name="delivery_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["notice", "customer", "channel"],
                condition=Q(customer__isnull=False),
                name="delivery_one_per_customer_channel",
            ),
            models.UniqueConstraint(
                fields=["notice", "subscriber", "channel"],
                condition=Q(subscriber__isnull=False),
                name="delivery_one_per_subscriber_channel",
            ),
            models.UniqueConstraint(
                fields=["notice", "staff", "channel"],
                condition=Q(staff__isnull=False),
                name="delivery_one_per_staff_channel",
            ),
        ]
        # Every index is written for each of a notice's million rows, and again for each
        # status change: only what a lookup needs, partial where most rows have nothing to
        # index (queued rows have no provider id and were sent nothing yet).
        indexes = [
            # Claims (status, priority order), progress counts and lookups by notice.
            models.Index(fields=["notice", "status", "priority", "id"], name="delivery_work_queue"),
            # A claim's rows, by its token (and expired leases, for the sweeper). Dead entries
            # pile up here while a big notice is sent (every row passes through sending):
            # looking a token up finds its own rows without stepping over them.
            models.Index(
                fields=["lease_token"], name="delivery_leases", condition=Q(status="sending")
            ),
            # Receipts, by the provider's message id.
            models.Index(
                fields=["provider", "provider_id"],
                name="delivery_provider_id",
                condition=~Q(provider_id=""),
            ),
            # What a customer was sent, and when (the hourly cap).
            models.Index(
                fields=["customer", "sent_at"],
                name="delivery_customer_sent",
                condition=Q(sent_at__isnull=False),
            ),
            models.Index(
                fields=["subscriber"],
                name="delivery_subscriber",
                condition=Q(subscriber__isnull=False),
            ),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient_label} ({self.status})"

    @property
    def recipient_label(self) -> str:
        if self.subscriber_id is not None:
            return f"subscriber {self.subscriber_id}"
        if self.staff_id is not None:
            return f"staff user {self.staff_id}"
        return f"customer {self.customer_id}"

    @property
    def idempotency_key(self) -> str:
        if self.subscriber_id is not None:
            return f"n{self.notice_id}-s{self.subscriber_id}-{self.channel}"
        if self.staff_id is not None:
            return f"n{self.notice_id}-u{self.staff_id}-{self.channel}"
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
    CONFIRM = "confirm", "YES (confirm a subscription)"
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
        constraints = [
            # A provider retrying its webhook sends the same message id again: kept once.
            models.UniqueConstraint(
                fields=["channel", "provider_id"],
                condition=~models.Q(provider_id=""),
                name="inbound_once_per_provider_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} from {self.sender}: {self.text[:30]}"


class SurveyResponse(models.Model):
    """A customer's one-click score (1–5) for how we handled an outage, from the links in a
    survey notice, and the comment they may add. One per notice and customer: clicking
    another score changes it."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="survey_responses")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Capability.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "customer"], name="survey_response_once_per_customer"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="survey_score_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 for notice {self.notice_id}"
