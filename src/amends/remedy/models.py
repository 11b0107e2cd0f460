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
    ZERO = "zero", "Calculated amount is zero"


class Entitlement(models.Model):
    """What one customer is owed under one calculation, with its parts and the explanation.

    Amounts are whole cents; the policy's rounding rule is applied once, to the total.
    """

    calculation = models.ForeignKey(
        Calculation, on_delete=models.CASCADE, related_name="entitlements"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    eligible = models.BooleanField()
    exclusion = models.CharField(max_length=10, choices=Exclusion.choices, blank=True)
    outage_seconds = models.BigIntegerField(help_text="Merged time without service.")
    services = models.IntegerField(default=0, help_text="Affected services.")
    base_cents = models.BigIntegerField(default=0)
    bonus_cents = models.BigIntegerField(default=0)
    interest_cents = models.BigIntegerField(default=0)
    adjustment_cents = models.BigIntegerField(default=0, help_text="Minimum/cap/rounding.")
    total_cents = models.BigIntegerField(default=0)
    non_monetary = models.CharField(max_length=200, blank=True, help_text="e.g. 10 GB data")
    explanation = models.TextField()

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
    EXPORTED = "exported", "Exported to billing"
    PAID = "paid", "Paid"
    REJECTED = "rejected", "Rejected by billing"
    RESIDUAL = "residual", "Moved to residual ledger"


class PayoutBatch(models.Model):
    """One export file for the billing system. The batch id is idempotent: billing applies a
    batch once, and exporting again returns the same batch."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="batches")
    batch_id = models.CharField(max_length=40, unique=True)
    method = models.CharField(max_length=12, choices=PayoutMethod.choices)
    items = models.IntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.batch_id


class Payout(models.Model):
    """One amount to pay one customer: an approved entitlement or an approved claim."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="payouts")
    entitlement = models.OneToOneField(
        Entitlement, null=True, blank=True, on_delete=models.PROTECT, related_name="payout"
    )
    claim = models.OneToOneField(
        "Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="payout"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    method = models.CharField(max_length=12, choices=PayoutMethod.choices)
    amount_cents = models.BigIntegerField()
    status = models.CharField(
        max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    batch = models.ForeignKey(
        PayoutBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="payouts"
    )
    billing_reference = models.CharField(max_length=64, blank=True)
    rejection_reason = models.TextField(blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["program", "status"], name="payout_program_status")]

    def __str__(self) -> str:
        return f"{self.method} {self.amount_cents} c to customer {self.customer_id}"


class ResidualEntry(models.Model):
    """An amount that could not be paid after recorded reasonable efforts. It is held for the
    customer or given to charity (RG 277: ≤ $5 to a former customer with no payment details);
    the operator never keeps it."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="residual")
    payout = models.OneToOneField(Payout, on_delete=models.PROTECT, related_name="residual")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    amount_cents = models.BigIntegerField()
    efforts = models.TextField(help_text="What was tried to pay the customer, and when.")
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
    APPROVED = "approved", "Approved"
    PARTLY_APPROVED = "partly_approved", "Partly approved"
    DECLINED = "declined", "Declined"
    PAID = "paid", "Paid"


class Claim(models.Model):
    """A small business's claim for consequential loss, with evidence, answered with reasons."""

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
    decision_reasons = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

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
