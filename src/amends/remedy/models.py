"""What we owe customers for an outage, and how it reaches them.

A *program* covers one or more outages and applies one *policy version* to their impact. Each
*calculation* is a versioned run of that policy producing one *entitlement* per affected
customer (eligible or not, with the reason and a plain-language explanation). An approved
calculation is paid through *payouts* (bill credits and refunds exported to billing in
idempotent *batches* and confirmed back); what cannot be paid after recorded reasonable efforts
goes to the *residual ledger*, never back to the operator. Small businesses can also *claim*
consequential loss, with evidence.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from amends.core.money import DEFAULT_CURRENCY
from amends.network.models import Customer
from amends.outages.models import Outage


class ProgramStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CALCULATED = "calculated", "Calculated"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    PAYING = "paying", "Paying"
    CLOSED = "closed", "Closed"


class Policy(models.Model):
    """A named remediation policy; its rules live in numbered, immutable versions."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name


class PolicyVersion(models.Model):
    """One immutable version of a policy's rules (validated by ``remedy.policy``)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    document = models.JSONField(help_text="The rules, validated by remedy.policy.PolicyDocument.")
    preset = models.CharField(max_length=40, blank=True, help_text="Preset it started from.")
    author = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "version"], name="policy_version_unique")
        ]
        ordering = ["policy", "-version"]

    def __str__(self) -> str:
        return f"{self.policy} v{self.version}"

    @property
    def currency(self) -> str:
        """The ISO 4217 code of every amount under this version (``PolicyDocument.currency``)."""
        return str(self.document.get("currency", DEFAULT_CURRENCY))


class Program(models.Model):
    """Remediation for one or more outages under one policy version."""

    reference = models.CharField(max_length=20, unique=True)  # REM-2026-0007
    name = models.CharField(max_length=200)
    outages = models.ManyToManyField(Outage, related_name="remedy_programs")
    status = models.CharField(
        max_length=16, choices=ProgramStatus.choices, default=ProgramStatus.DRAFT
    )
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_calculation = models.ForeignKey(
        "Calculation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reference} {self.name}"


class Calculation(models.Model):
    """One run of the program's policy over its impact. Recalculating makes a new version;
    the same inputs (impact rows, policy version, ``as_of``) always give the same cents."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="calculations")
    version = models.PositiveIntegerField()
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    as_of = models.DateTimeField(help_text="Windows still open are counted to here.")
    inputs_digest = models.CharField(max_length=64, help_text="SHA-256 of impact and policy.")
    calculated_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    affected_customers = models.IntegerField(default=0)
    eligible_customers = models.IntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    interest_rate = models.DecimalField(
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Annual % used for foregone interest (none: the policy has no interest).",
    )
    duration_ms = models.IntegerField(default=0, help_text="How long the calculation took.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "version"], name="calculation_version")
        ]
        ordering = ["program", "-version"]

    def __str__(self) -> str:
        return f"{self.program.reference} calculation v{self.version}"


class Exclusion(models.TextChoices):
    """Why an affected customer has no entitlement."""

    NONE = "", "Eligible"
    SHORT = "short", "Outage shorter than the policy's minimum"
    SEGMENT = "segment", "Segment not covered by the policy"
    PRODUCT = "product", "No affected service on a covered product"
    FORMER = "former", "Former customer not covered by the policy"
    EXCLUDED = "excluded", "Excluded by the policy's exclusion list"
    CURRENT = "current", "Current customer, and the policy covers former customers only"
    ZERO = "zero", "Calculated amount is zero"
    FEW = "few", "Outage affected fewer customers than the policy's threshold"


class Entitlement(models.Model):
    """What one customer is owed under one calculation, with its parts and the explanation.

    Amounts are whole cents; the policy's rounding rule is applied once, to the total.
    """

    # Rows are only written by the calculation's INSERT … SELECT, for the calculation it has
    # just created, so the reference holds by construction: no database constraint (checking
    # it would queue a trigger per row of a million) and no index of its own (the
    # (calculation, customer) constraint's index serves it). Django still cascades deletes.
    calculation = models.ForeignKey(
        Calculation,
        on_delete=models.CASCADE,
        related_name="entitlements",
        db_index=False,
        db_constraint=False,
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    eligible = models.BooleanField()
    exclusion = models.CharField(max_length=10, choices=Exclusion.choices, blank=True)
    outage_seconds = models.BigIntegerField(help_text="Merged time without service.")
    outage_end = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the customer's last affected service came back (interest runs from "
        "here); empty while one is still out.",
    )
    services = models.IntegerField(default=0, help_text="Affected services.")
    base_cents = models.BigIntegerField(default=0)
    # A database default too: the calculation writes the column only for a policy with SLA
    # credits, so one without them inserts what it did before they existed.
    sla_cents = models.BigIntegerField(
        default=0, db_default=0, help_text="SLA credits of services restored late."
    )
    bonus_cents = models.BigIntegerField(default=0)
    interest_cents = models.BigIntegerField(default=0)
    adjustment_cents = models.BigIntegerField(default=0, help_text="Minimum/cap/rounding.")
    total_cents = models.BigIntegerField(default=0)
    non_monetary = models.CharField(max_length=200, blank=True, help_text="e.g. 10 GB data")
    explanation = models.TextField()
    inputs_checksum = models.BigIntegerField(
        default=0,
        help_text="Checksum of what the amount was computed from (windows, charges, products, "
        "segment, former flag); the calculation's inputs_digest covers their sum.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["calculation", "customer"], name="entitlement_one_per_customer"
            )
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id}: {self.total_cents} c"


class PayoutMethod(models.TextChoices):
    BILL_CREDIT = "bill_credit", "Bill credit"
    REFUND = "refund", "Refund to payment details"
    RESIDUAL = "residual", "Residual (charity) ledger"


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Pending export"
    # A former customer with no payment details: we are trying to reach them (reasonable
    # efforts) before the amount may go to the residual ledger.
    EFFORTS = "efforts", "Awaiting payment details"
    EXPORTED = "exported", "Exported to billing"
    PAID = "paid", "Paid"
    REJECTED = "rejected", "Rejected by billing"
    RESIDUAL = "residual", "Moved to residual ledger"


class BatchFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"


class PayoutBatch(models.Model):
    """One export file for the billing system. The batch id is idempotent: billing applies a
    batch once, and exporting again returns the same batch and the same bytes (``sha256``).

    ``payment_date`` is the day the file asks billing to pay: refunds carry foregone interest
    up to it."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="batches")
    batch_id = models.CharField(max_length=40, unique=True)
    method = models.CharField(max_length=12, choices=PayoutMethod.choices)
    items = models.IntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    file_format = models.CharField(max_length=5, choices=BatchFormat.choices, default="csv")
    payment_date = models.DateField(null=True, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.batch_id


class Payout(models.Model):
    """One amount to pay one customer: an approved entitlement or an approved claim.

    ``amount_cents`` is what is paid, ``interest_cents`` of it foregone interest (refunds and
    residual amounts of entitlements, recomputed to the payment date). ``payment_reference``
    is the customer's refund details reference as it was when the payout was made, so a batch
    file exported again is byte for byte the same. ``credit_notice`` is set once the customer
    has been sent their "credit applied" notice.
    """

    # A million payouts are inserted, then exported and confirmed by single statements that
    # change every row. Three things keep those statements near the cost of writing the rows:
    # * no database check of the program, entitlement and batch references (a lookup and a
    #   row lock per payout): rows are written only by those statements, from the program,
    #   entitlements and batch the same transaction has locked or just made, so they hold by
    #   construction, and Django still refuses to delete what a payout points at (PROTECT);
    # * neither status nor batch is indexed, so exporting and confirming change no indexed
    #   column and PostgreSQL updates each row in place, without touching an index (a "HOT"
    #   update); every query of them also names the program, whose index finds the rows;
    # * on PostgreSQL the table keeps half of each page free for those in-place versions
    #   (fillfactor 50, set by migration 0006).
    # Nothing looks payouts up by customer alone.
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="payouts", db_constraint=False
    )
    entitlement = models.OneToOneField(
        Entitlement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payout",
        db_constraint=False,
    )
    claim = models.OneToOneField(
        "Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="payout"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    method = models.CharField(max_length=12, choices=PayoutMethod.choices)
    amount_cents = models.BigIntegerField()
    interest_cents = models.BigIntegerField(default=0)
    payment_reference = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    batch = models.ForeignKey(
        PayoutBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payouts",
        db_constraint=False,
        db_index=False,
    )
    billing_reference = models.CharField(max_length=64, blank=True)
    rejection_reason = models.TextField(blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    credit_notice = models.ForeignKey(
        "CreditNotice", null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.method} {self.amount_cents} c to customer {self.customer_id}"


class ResidualDestination(models.TextChoices):
    """Where an unpaid amount goes. There is deliberately no choice for the operator."""

    CHARITY = "charity", "Donated to charity"
    UNCLAIMED = "unclaimed", "Lodged as unclaimed money"
    HELD = "held", "Held in trust for the customer"


class ResidualEntry(models.Model):
    """An amount that could not be paid after recorded reasonable efforts. It is held for the
    customer or given to charity (RG 277: ≤ $5 to a former customer with no payment details);
    the operator never keeps it."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="residual")
    payout = models.OneToOneField(Payout, on_delete=models.PROTECT, related_name="residual")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    amount_cents = models.BigIntegerField(help_text="Foregone interest included.")
    interest_cents = models.BigIntegerField(default=0)
    efforts = models.TextField(help_text="What was tried to pay the customer, and when.")
    destination_kind = models.CharField(max_length=10, choices=ResidualDestination.choices)
    destination = models.CharField(max_length=200, help_text="Charity or holding account.")
    recorded_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "residual entries"

    def __str__(self) -> str:
        return f"residual {self.amount_cents} c for customer {self.customer_id}"


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ASSESSING = "assessing", "Being assessed"
    PENDING_APPROVAL = "pending_approval", "Waiting for a second approval"
    APPROVED = "approved", "Approved"
    PARTLY_APPROVED = "partly_approved", "Partly approved"
    DECLINED = "declined", "Declined"
    PAID = "paid", "Paid"


# A claim in one of these states has its answer: the claimant has been told the decision.
DECIDED_CLAIM_STATUSES = (
    ClaimStatus.APPROVED,
    ClaimStatus.PARTLY_APPROVED,
    ClaimStatus.DECLINED,
    ClaimStatus.PAID,
)


class Claim(models.Model):
    """A small business's claim for consequential loss, with evidence, answered with reasons.

    An analyst decides (approved, partly approved with an amount, declined); an approval above
    ``AMENDS_CLAIM_APPROVAL_THRESHOLD`` waits in ``pending_approval`` for a second person.
    Approved means the whole amount claimed, partly approved less: the outcome follows from
    ``amount_approved_cents``. A final approval becomes a ``Payout`` in the linked program.
    """

    reference = models.CharField(max_length=20, unique=True)  # CLM-2026-00042
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    outage = models.ForeignKey(
        Outage, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    account_number = models.CharField(max_length=64, help_text="As the claimant gave it.")
    postcode = models.CharField(max_length=4, help_text="Service postcode as the claimant gave it.")
    business_name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)
    description = models.TextField()
    amount_claimed_cents = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_approved_cents = models.BigIntegerField(null=True, blank=True)
    payout_method = models.CharField(max_length=12, choices=PayoutMethod.choices, blank=True)
    decision_reasons = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="claim_queue")]

    def __str__(self) -> str:
        return f"{self.reference} {self.business_name}"


class ClaimEvidence(models.Model):
    """A file a claimant uploaded, stored under a random name with its checksum."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="claims/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.IntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "claim evidence"

    def __str__(self) -> str:
        return self.original_name


class ClaimAttempt(models.Model):
    """One submission of the public claim form, for its per-client rate limit. Only a keyed
    hash of the client's address is kept, and rows older than the limit's window are deleted."""

    client = models.CharField(max_length=64, help_text="HMAC of the client address.")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["client", "at"], name="claim_attempt_client")]

    def __str__(self) -> str:
        return f"claim attempt {self.at:%Y-%m-%d %H:%M}"


class CreditNotice(models.Model):
    """Links a "credit applied" notice to the program whose approved calculation supplies each
    recipient's amount and explanation (read by the notice renderer, batch by batch)."""

    notice = models.OneToOneField(
        "comms.Notice", on_delete=models.CASCADE, related_name="credit_notice"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="credit_notices")
    calculation = models.ForeignKey(Calculation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"credit notice {self.notice_id} for {self.program_id}"
