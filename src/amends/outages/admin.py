"""Outages in the admin are read-only: every change goes through the outage services, which
resolve impact, reclassify and audit. Use the console, API or CLI to change them."""

from __future__ import annotations

from django.contrib import admin

from amends.core.admin_audit import ReadOnlyAdmin
from amends.outages.models import Outage, Update


@admin.register(Outage)
class OutageAdmin(ReadOnlyAdmin[Outage]):
    list_display = (
        "reference",
        "title",
        "status",
        "classification",
        "started_at",
        "affected_services",
    )
    list_filter = ("status", "classification", "severity")
    search_fields = ("reference", "title")


@admin.register(Update)
class UpdateAdmin(ReadOnlyAdmin[Update]):
    list_display = ("outage", "visibility", "status", "created_at", "author")
    list_filter = ("visibility",)
