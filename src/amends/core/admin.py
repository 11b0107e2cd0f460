from __future__ import annotations

from django.contrib import admin

from amends.core.admin_audit import ReadOnlyAdmin
from amends.core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin[AuditEntry]):
    """Read-only: the audit log is append-only, even for administrators."""

    list_display = ("seq", "at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor", "action", "object_id")
    show_full_result_count = False
