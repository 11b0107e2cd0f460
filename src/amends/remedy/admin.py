"""Remediation in the admin is read-only: policies, calculations, approvals, payouts and the
residual ledger change only through the remedy services, which check state and roles and
audit. Use the console, API or CLI to change them."""

from __future__ import annotations

from django.contrib import admin

from amends.core.admin_audit import ReadOnlyAdmin
from amends.remedy.models import (
    Calculation,
    Claim,
    ClaimEvidence,
    CreditNotice,
    Entitlement,
    Payout,
    PayoutBatch,
    Policy,
    PolicyVersion,
    Program,
    ResidualEntry,
)


@admin.register(Policy)
class PolicyAdmin(ReadOnlyAdmin[Policy]):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin[PolicyVersion]):
    list_display = ("policy", "version", "preset", "author", "created_at")


@admin.register(Program)
class ProgramAdmin(ReadOnlyAdmin[Program]):
    list_display = ("reference", "name", "status", "author", "approver", "approved_at")
    list_filter = ("status",)
    search_fields = ("reference", "name")


@admin.register(Calculation)
class CalculationAdmin(ReadOnlyAdmin[Calculation]):
    list_display = (
        "program",
        "version",
        "calculated_by",
        "eligible_customers",
        "total_cents",
        "created_at",
    )


@admin.register(Entitlement)
class EntitlementAdmin(ReadOnlyAdmin[Entitlement]):
    list_display = ("calculation", "customer", "eligible", "exclusion", "total_cents")
    list_filter = ("eligible", "exclusion")
    raw_id_fields = ("calculation", "customer")
    show_full_result_count = False  # a calculation can have a million rows


@admin.register(PayoutBatch)
class PayoutBatchAdmin(ReadOnlyAdmin[PayoutBatch]):
    list_display = ("batch_id", "method", "items", "total_cents", "created_at", "confirmed_at")
    search_fields = ("batch_id",)


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin[Payout]):
    list_display = ("id", "program", "customer", "method", "status", "amount_cents", "batch")
    list_filter = ("method", "status")
    raw_id_fields = ("entitlement", "claim", "customer", "batch", "credit_notice")
    show_full_result_count = False


@admin.register(ResidualEntry)
class ResidualEntryAdmin(ReadOnlyAdmin[ResidualEntry]):
    list_display = ("program", "customer", "amount_cents", "destination_kind", "destination")
    list_filter = ("destination_kind",)
    raw_id_fields = ("payout", "customer")


@admin.register(CreditNotice)
class CreditNoticeAdmin(ReadOnlyAdmin[CreditNotice]):
    list_display = ("notice", "program", "calculation", "created_at")


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin[Claim]):
    list_display = ("reference", "business_name", "status", "amount_claimed_cents", "created_at")
    list_filter = ("status",)
    search_fields = ("reference", "business_name")


@admin.register(ClaimEvidence)
class ClaimEvidenceAdmin(ReadOnlyAdmin[ClaimEvidence]):
    list_display = ("claim", "original_name", "content_type", "size", "uploaded_at")
