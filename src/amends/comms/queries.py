"""Reads for communications: notice progress and the marketing suppression list."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, QuerySet

from amends.comms.models import Delivery, Notice
from amends.network.models import Customer
from amends.outages.models import OPEN_STATUSES, Impact


def notice_progress(notice: Notice) -> dict[str, int]:
    """Deliveries by status (the dashboard's numbers)."""
    rows = (
        Delivery.objects.filter(notice=notice)
        .values_list("status")
        .order_by()
        .annotate(n=Count("id"))
    )
    return {status: n for status, n in rows}


def notice_failures(notice: Notice, limit: int = 100) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(notice=notice, status__in=("failed", "dead", "bounced"))
        .select_related("customer")
        .order_by("-finished_at")[:limit]
    )


def suppressed_customers() -> QuerySet[Customer]:
    """Customers with a service in an open outage right now: no promotions to them."""
    in_open_outage = Impact.objects.filter(
        window_end__isnull=True, outage__status__in=OPEN_STATUSES
    ).values("customer_id")
    return Customer.objects.filter(pk__in=in_open_outage).order_by("id")


def suppression_rows(batch: int = 5000) -> Iterator[tuple[str, str]]:
    """(external id, comma-separated open outage references) per customer, streamed in
    customer order so memory stays flat however many customers are in an outage."""
    rows = (
        Impact.objects.filter(window_end__isnull=True, outage__status__in=OPEN_STATUSES)
        .order_by("customer_id", "outage__reference")
        .values_list("customer_id", "customer__external_id", "outage__reference")
        .distinct()
        .iterator(chunk_size=batch)
    )
    current, external_id = None, ""
    references: list[str] = []
    for customer_id, customer_external_id, reference in rows:
        if customer_id != current:
            if current is not None:
                yield external_id, ",".join(references)
            current, external_id, references = customer_id, customer_external_id, []
        if reference not in references:
            references.append(reference)
    if current is not None:
        yield external_id, ",".join(references)
