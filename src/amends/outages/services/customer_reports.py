"""What a customer tells us about their own service during an outage."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from amends.core import audit
from amends.outages.models import Outage, Visibility
from amends.outages.services.common import add_timeline_entry


def outage_still_out(*, actor: audit.Actor, outage: Outage, customer_id: int) -> int:
    """A customer says "still out" after restoration: open a new window for each of their
    services in this outage whose window has closed (none already open), and tell the
    commander on the internal timeline. Returns how many windows were opened."""
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO outages_impact (outage_id, service_id, customer_id, window_start, "
                "window_end, end_reason, degree) SELECT DISTINCT i.outage_id, i.service_id, "
                "i.customer_id, %s, CAST(NULL AS TIMESTAMP), '', 'full' FROM outages_impact i "
                "WHERE "
                "i.outage_id = %s AND i.customer_id = %s AND NOT EXISTS (SELECT 1 FROM "
                "outages_impact o WHERE o.outage_id = i.outage_id AND o.service_id = "
                "i.service_id AND o.window_end IS NULL)",
                [connection.ops.adapt_datetimefield_value(now), outage.pk, customer_id],
            )
            opened = int(cursor.rowcount)
        if opened:
            add_timeline_entry(
                outage,
                actor,
                Visibility.INTERNAL,
                f"A customer reports still being out: {opened} service(s) reopened "
                f"(customer id {customer_id}). Check their area.",
                now,
            )
            audit.record(
                actor,
                "outage.still_out",
                outage,
                after={"customer_id": customer_id, "reopened": opened},
            )
    return opened
