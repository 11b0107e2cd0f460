"""What a customer tells us about their own service during an outage, and the commander's
answer to it.

A "still out" reopens a window for each of the customer's services in the outage that is
closed, except those the report itself shows to work (``working_kind``: a text from the
customer's mobile number proves their mobile works). Each report that reopens something is a
``StillOutReport``: a task on the outage page ("Reported still out by customers (N)") and an
internal timeline entry, until the commander restores the services or dismisses the report.

On a resolved outage a report reopens windows just the same: the customer is out, and their
credit and messages must know it. Every window still open on a resolved outage is therefore a
reported one, and the console shows them as reported, not as the outage "still out"; the
commander's restore or dismiss closes them (see ``queries.impact_counts``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.network.models import Customer
from amends.outages.models import EndReason, Outage, ReportOutcome, StillOutReport, Visibility
from amends.outages.services.common import add_timeline_entry, release_held_deliveries


@dataclass(frozen=True)
class StillOut:
    reopened: int  # windows opened by this report
    in_outage: int  # the customer's services in the outage that the report may reopen
    report: StillOutReport | None


def outage_still_out(
    *, actor: audit.Actor, outage: Outage, customer: Customer, working_kind: str = ""
) -> StillOut:
    """Reopen the customer's closed services in this outage, except those of product kind
    ``working_kind`` (the kind the report came through, which therefore works), and give the
    commander a task about it."""
    now = timezone.now()
    # No product kind is blank, so a blank working_kind spares nothing.
    services = (
        "FROM outages_impact i JOIN network_service s ON s.id = i.service_id "
        "JOIN network_product p ON p.id = s.product_id "
        "WHERE i.outage_id = %s AND i.customer_id = %s AND p.kind <> %s "
    )
    params: list[int | str] = [outage.pk, customer.pk, working_kind]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(DISTINCT i.service_id) {services}",
            params,
        )
        (in_outage,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO outages_impact (outage_id, service_id, customer_id, window_start, "  # noqa: S608
            "window_end, end_reason, degree) SELECT DISTINCT i.outage_id, i.service_id, "
            "i.customer_id, %s, CAST(NULL AS TIMESTAMP), '', 'full' "
            f"{services}AND NOT EXISTS (SELECT 1 FROM outages_impact o WHERE o.outage_id = "
            "i.outage_id AND o.service_id = i.service_id AND o.window_end IS NULL)",
            [connection.ops.adapt_datetimefield_value(now), *params],
        )
        opened = int(cursor.rowcount)
        report = None
        if opened:
            report = StillOutReport.objects.create(
                outage=outage, customer=customer, services=opened, reported_at=now
            )
            add_timeline_entry(
                outage,
                actor,
                Visibility.INTERNAL,
                f"Customer {customer.external_id} reports still being out: {opened} "
                "service(s) reopened. Check their area, then restore or dismiss the report "
                "on the outage page.",
                now,
            )
            audit.record(
                actor,
                "outage.still_out",
                outage,
                after={"customer": customer.external_id, "reopened": opened},
            )
    return StillOut(reopened=opened, in_outage=int(in_outage), report=report)


def still_out_handle(*, actor: audit.Actor, report: StillOutReport, outcome: str) -> StillOutReport:
    """The commander's answer to a report: ``restored`` closes the reopened windows now;
    ``dismissed`` (the customer was not out because of this outage) closes them where they
    began, so they count no time. Either way messages held for the customer are released."""
    if outcome not in (ReportOutcome.RESTORED, ReportOutcome.DISMISSED):
        raise AmendsError(f"{outcome!r} is not restored or dismissed", field="outcome")
    now = timezone.now()
    with transaction.atomic():
        report = (
            StillOutReport.objects.select_for_update().select_related("customer").get(pk=report.pk)
        )
        if report.outcome:
            raise Conflict(f"this report was already {report.outcome}", field="outcome")
        windows = report.outage.impacts.filter(
            customer_id=report.customer_id,
            window_end__isnull=True,
            window_start=report.reported_at,
        )
        if outcome == ReportOutcome.RESTORED:
            closed = windows.update(window_end=now, end_reason=EndReason.RESTORED)
        else:
            closed = windows.update(
                window_end=report.reported_at, end_reason=EndReason.SCOPE_CHANGED
            )
        report.outcome, report.handled_by, report.handled_at = outcome, audit.actor_name(actor), now
        report.save(update_fields=["outcome", "handled_by", "handled_at"])
        add_timeline_entry(
            report.outage,
            actor,
            Visibility.INTERNAL,
            f"Still-out report of customer {report.customer.external_id} {outcome}: "
            f"{closed} service(s) closed.",
            now,
        )
        release_held_deliveries(report.outage)
        audit.record(
            actor,
            f"outage.still_out_{outcome}",
            report.outage,
            after={"customer": report.customer.external_id, "closed": closed},
        )
    return report
