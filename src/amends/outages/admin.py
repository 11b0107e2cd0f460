"""Outages in the admin are read-only: every change goes through the outage services, which
resolve impact, reclassify and audit. Use the console, API or CLI to change them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from amends.outages.models import Outage, Update


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Outage)
class OutageAdmin(ReadOnlyAdmin):
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
class UpdateAdmin(ReadOnlyAdmin):
    list_display = ("outage", "visibility", "status", "created_at", "author")
    list_filter = ("visibility",)
