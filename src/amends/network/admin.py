from __future__ import annotations

from django.contrib import admin

from amends.core.admin_audit import AuditedAdmin
from amends.network.models import Customer, NetworkElement, Product, Service, Team


@admin.register(Team)
class TeamAdmin(AuditedAdmin[Team]):
    list_display = ("external_id", "name", "email")
    search_fields = ("external_id", "name")


@admin.register(Product)
class ProductAdmin(AuditedAdmin[Product]):
    list_display = ("code", "name", "kind", "monthly_charge_cents")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(NetworkElement)
class NetworkElementAdmin(AuditedAdmin[NetworkElement]):
    list_display = ("external_id", "name", "kind", "state", "path")
    list_filter = ("kind", "state")
    search_fields = ("external_id", "name", "path")
    raw_id_fields = ("parent",)
    readonly_fields = ("path",)


@admin.register(Customer)
class CustomerAdmin(AuditedAdmin[Customer]):
    list_display = (
        "external_id",
        "name",
        "segment",
        "language",
        "priority_assistance",
        "is_former",
    )
    list_filter = ("segment", "priority_assistance", "is_former", "language", "team")
    search_fields = ("external_id", "name", "email", "mobile", "phone")
    list_select_related = ("team",)
    show_full_result_count = False  # counting millions of rows on every page is slow


@admin.register(Service)
class ServiceAdmin(AuditedAdmin[Service]):
    list_display = ("external_id", "customer", "product", "postcode", "locality", "state")
    list_filter = ("state", "remoteness", "product", "sla_tier", "is_active")
    search_fields = ("external_id", "customer__external_id", "postcode", "locality", "address")
    list_select_related = ("customer", "product")
    raw_id_fields = ("customer", "element")
    show_full_result_count = False
