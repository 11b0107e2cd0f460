"""Reads over outages and their impact."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from amends.core.errors import NotFound
from amends.outages.models import OPEN_STATUSES, Impact, Outage, ReportOutcome, StillOutReport


@dataclass(frozen=True)
class ImpactCounts:
    """Who an outage has affected (distinct, across all windows) and who still is.

    ``still_affected_services`` counts every open window, ``reported_still_out`` those that
    customers' "still out" reopened and the commander has not yet restored or dismissed. On a
    resolved outage every open window is a reported one (resolving closes the rest), so the
    console shows ``outage_still_out`` (0 there) and the reported ones apart from it: a
    resolved outage never reads "1 still out" because one customer says so.
    """

    services: int
    customers: int
    still_affected_services: int
    reported_still_out: int
    by_segment: dict[str, int]  # customers
    by_product: dict[str, int]  # services
    by_state: dict[str, int]  # services
    priority_assistance_customers: int
    # A preview's polygon services without coordinates (see scope.ScopeSpec.unplaced): left
    # out, or matched by their postcode (and counted above).
    not_placed: int = 0
    matched_by_postcode: int = 0

    @property
    def outage_still_out(self) -> int:
        return self.still_affected_services - self.reported_still_out


def _grouped(sql: str, params: list[int]) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {str(key): int(count) for key, count in cursor.fetchall()}


def impact_counts(outage: Outage) -> ImpactCounts:
    params = [outage.pk]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT service_id), count(DISTINCT customer_id), "
            "count(DISTINCT CASE WHEN window_end IS NULL THEN service_id END) "
            "FROM outages_impact WHERE outage_id = %s",
            params,
        )
        services, customers, still = cursor.fetchone()
        cursor.execute(
            "SELECT count(DISTINCT c.id) FROM outages_impact i "
            "JOIN network_customer c ON c.id = i.customer_id "
            "WHERE i.outage_id = %s AND c.priority_assistance = %s",
            [outage.pk, True],
        )
        (priority,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(DISTINCT i.service_id) FROM outages_impact i "
            "JOIN outages_stilloutreport r ON r.outage_id = i.outage_id "
            "AND r.customer_id = i.customer_id AND r.reported_at = i.window_start "
            "WHERE i.outage_id = %s AND i.window_end IS NULL AND r.outcome = ''",
            params,
        )
        (reported,) = cursor.fetchone()
    return ImpactCounts(
        services=services,
        customers=customers,
        still_affected_services=still,
        reported_still_out=reported,
        by_segment=_grouped(
            "SELECT c.segment, count(DISTINCT c.id) FROM outages_impact i "
            "JOIN network_customer c ON c.id = i.customer_id WHERE i.outage_id = %s "
            "GROUP BY c.segment ORDER BY c.segment",
            params,
        ),
        by_product=_grouped(
            "SELECT p.name, count(DISTINCT s.id) FROM outages_impact i "
            "JOIN network_service s ON s.id = i.service_id "
            "JOIN network_product p ON p.id = s.product_id WHERE i.outage_id = %s "
            "GROUP BY p.name ORDER BY p.name",
            params,
        ),
        by_state=_grouped(
            "SELECT s.state, count(DISTINCT s.id) FROM outages_impact i "
            "JOIN network_service s ON s.id = i.service_id WHERE i.outage_id = %s "
            "GROUP BY s.state ORDER BY s.state",
            params,
        ),
        priority_assistance_customers=priority,
    )


def open_still_out_reports(outage: Outage) -> QuerySet[StillOutReport]:
    """The commander's still-out tasks on this outage, oldest first: reports not yet handled
    whose reopened windows are still open (a restore of the scope that covers them, or
    resolving the outage, closes the windows and so ends the task too)."""
    reopened = Impact.objects.filter(
        outage_id=OuterRef("outage_id"),
        customer_id=OuterRef("customer_id"),
        window_start=OuterRef("reported_at"),
        window_end__isnull=True,
    )
    return (
        outage.still_out_reports.filter(outcome=ReportOutcome.OPEN)
        .filter(Exists(reopened))
        .select_related("customer")
    )


def outage_by_reference(reference: str) -> Outage:
    outage = Outage.objects.filter(reference=reference.strip().upper()).first()
    if outage is None:
        raise NotFound(f"no outage {reference!r}", field="reference")
    return outage


def open_outages() -> QuerySet[Outage]:
    return Outage.objects.filter(status__in=OPEN_STATUSES)


# The operator's public words an outage may carry in other languages (Outage.translations).
TRANSLATABLE = ("title", "public_summary", "cause_public", "resolution_summary")


def primary_language(tag: str) -> str:
    """A tag's primary language, the key translations are kept under: zh-Hans-AU → zh."""
    return tag.replace("_", "-").split("-")[0].lower()


def localized(outage: Outage, field: str, language: str) -> str:
    """The outage's ``field`` in ``language`` if the operator gave it, else its base (English)
    text; "" for a field the model does not have (yet), so new fields need no change here."""
    given = (outage.translations or {}).get(primary_language(language), {})
    text = given.get(field, "") if isinstance(given, dict) else ""
    if isinstance(text, str) and text.strip():
        return text
    return str(getattr(outage, field, "") or "")


def untranslated(outage: Outage, language: str) -> list[str]:
    """The free-text fields the outage has in English but not in ``language``: what a
    customer in that language would read in English."""
    if primary_language(language) == "en":
        return []
    given = (outage.translations or {}).get(primary_language(language), {})
    return [
        field
        for field in TRANSLATABLE
        if str(getattr(outage, field, "") or "").strip()
        and not (isinstance(given, dict) and str(given.get(field, "")).strip())
    ]
