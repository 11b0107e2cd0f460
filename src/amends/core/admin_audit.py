"""Admin changes go into the audit chain too, not only Django's own admin log."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.contrib import admin
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.http import HttpRequest

from amends.core import audit

M = TypeVar("M", bound=models.Model)


class AuditedAdmin(admin.ModelAdmin[M], Generic[M]):
    """A ModelAdmin whose saves and deletes write an audit entry with before/after values."""

    def save_model(self, request: HttpRequest, obj: M, form: Any, change: bool) -> None:
        before = None
        if change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = model_to_dict(stored) if stored is not None else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            action = "change" if change else "add"
            audit.record(
                request.user, f"admin.{action}", obj, before=before, after=model_to_dict(obj)
            )

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        with transaction.atomic():
            audit.record(request.user, "admin.delete", obj, before=model_to_dict(obj))
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[M]) -> None:
        with transaction.atomic():
            for obj in queryset:
                audit.record(request.user, "admin.delete", obj, before=model_to_dict(obj))
            super().delete_queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin[M], Generic[M]):
    """A ModelAdmin that only shows: for tables changed solely through their services (which
    check state and audit), or never changed at all (the audit log)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
