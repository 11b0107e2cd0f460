"""What each claimed delivery says: its context, the rendered message, and whether it may go
now (quiet hours, the per-customer hourly cap)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from amends.comms import templating
from amends.comms.channels.base import OutboundMessage
from amends.comms.models import Delivery, DeliveryStatus, MessageTemplate, Notice
from amends.network.models import Customer
from amends.outages.models import Impact, Outage

Deferred = tuple[Delivery, datetime]


@dataclass
class Prepared:
    ready: list[tuple[Delivery, OutboundMessage]] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)  # quiet hours, hourly cap
    unrenderable: list[tuple[Delivery, str]] = field(default_factory=list)


def build_messages(deliveries: list[Delivery]) -> Prepared:
    """Render each delivery, or say until when it must wait, or why it cannot be written
    (no template for that channel, e.g. a stakeholder notice by SMS)."""
    now = timezone.now()
    prepared = Prepared()
    over_cap = _customers_over_cap([d for d in deliveries if not d.notice.urgent], now=now)
    affected = customer_impacts(deliveries)
    overrides = operator_templates(deliveries)
    for delivery in deliveries:
        wait = None if delivery.notice.urgent else _quiet_until(delivery.customer, now)
        if wait is None and delivery.customer_id in over_cap and not delivery.notice.urgent:
            wait = now + timedelta(hours=1)
        if wait is not None:
            prepared.deferred.append((delivery, wait))
            continue
        context = message_context(
            delivery.notice, delivery.customer, affected.get(delivery.customer_id, NO_IMPACT)
        )
        override = pick_template(
            overrides, delivery.notice.kind, delivery.channel, delivery.language
        )
        try:
            rendered = templating.render(
                delivery.notice.kind,
                delivery.channel,
                delivery.language,
                context,
                override=override,
            )
        except (templating.MissingTemplate, templating.TemplateProblem) as exc:
            prepared.unrenderable.append((delivery, str(exc)))
            continue
        prepared.ready.append((delivery, _outbound(delivery, rendered, context)))
    return prepared


def _outbound(
    delivery: Delivery, rendered: templating.Rendered, context: dict[str, Any]
) -> OutboundMessage:
    key = delivery.idempotency_key
    headers = {}
    if delivery.channel == "email" and not delivery.notice.urgent:
        headers = {
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    domain = settings.SITE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return OutboundMessage(
        delivery_id=delivery.pk,
        idempotency_key=key,
        capability=delivery.channel,
        to=delivery.address,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=headers,
        message_id=f"<{key}@{domain or 'amends.invalid'}>",
    )


def _quiet_until(customer: Customer, now: datetime) -> datetime | None:
    """When the customer's quiet hours end, if ``now`` falls inside them."""
    start, end = customer.quiet_hours_start, customer.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    try:
        zone = zoneinfo.ZoneInfo(customer.time_zone)
    except zoneinfo.ZoneInfoNotFoundError:
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    clock = local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    end_day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=zone)


def _customers_over_cap(deliveries: list[Delivery], *, now: datetime) -> set[int]:
    if not deliveries:
        return set()
    rows = (
        Delivery.objects.filter(
            customer_id__in={d.customer_id for d in deliveries},
            status__in=(DeliveryStatus.SENT, DeliveryStatus.DELIVERED),
            sent_at__gte=now - timedelta(hours=1),
        )
        .values("customer_id")
        .annotate(n=Count("id"))
    )
    return {row["customer_id"] for row in rows if row["n"] >= settings.AMENDS_CUSTOMER_HOURLY_CAP}


@dataclass(frozen=True)
class CustomerImpact:
    """One customer's own view of the outage."""

    areas: list[str]
    products: list[str]
    started_at: datetime | None
    restored_at: datetime | None  # when their last open window closed; None while out


NO_IMPACT = CustomerImpact([], [], None, None)


def customer_impacts(deliveries: list[Delivery]) -> dict[int, CustomerImpact]:
    """Each customer's affected localities, products and own window, one query per outage."""
    by_outage: dict[int, set[int]] = defaultdict(set)
    for d in deliveries:
        if d.notice.outage_id:
            by_outage[d.notice.outage_id].add(d.customer_id)
    details: dict[int, CustomerImpact] = {}
    for outage_id, customers in by_outage.items():
        rows = Impact.objects.filter(outage_id=outage_id, customer_id__in=customers).values_list(
            "customer_id",
            "service__locality",
            "service__product__name",
            "window_start",
            "window_end",
        )
        areas: dict[int, set[str]] = defaultdict(set)
        products: dict[int, set[str]] = defaultdict(set)
        starts: dict[int, list[datetime]] = defaultdict(list)
        ends: dict[int, list[datetime | None]] = defaultdict(list)
        for customer_id, locality, product, start, end in rows:
            areas[customer_id].add(locality.title())
            products[customer_id].add(product)
            starts[customer_id].append(start)
            ends[customer_id].append(end)
        for customer_id in customers:
            closed = [e for e in ends[customer_id] if e is not None]
            still_out = None in ends[customer_id] or not closed
            details[customer_id] = CustomerImpact(
                sorted(areas[customer_id]),
                sorted(products[customer_id]),
                min(starts[customer_id], default=None),
                None if still_out else max(closed),
            )
    return details


def pick_template(
    templates: dict[tuple[str, str, str], MessageTemplate], kind: str, channel: str, language: str
) -> MessageTemplate | None:
    """The operator's wording for the language tag, else for its primary language (en-AU → en)."""
    return templates.get((kind, channel, language)) or templates.get(
        (kind, channel, language.split("-")[0])
    )


def operator_templates(deliveries: list[Delivery]) -> dict[tuple[str, str, str], MessageTemplate]:
    """The operator's latest own wording for each kind × channel × language in the batch."""
    keys = {(d.notice.kind, d.channel, d.language) for d in deliveries}
    found: dict[tuple[str, str, str], MessageTemplate] = {}
    for template in MessageTemplate.objects.filter(
        kind__in={k for k, _, _ in keys}, channel__in={c for _, c, _ in keys}
    ).order_by("version"):
        found[(template.kind, template.channel, template.language)] = template
    return found


def _scale(outage: Outage) -> str:
    states = sorted(
        set(
            Impact.objects.filter(outage=outage)
            .values_list("service__state", flat=True)
            .distinct()[:9]
        )
    )
    where = f" in {', '.join(states)}" if states else ""
    return f"about {outage.affected_services:,} services{where}"


def message_context(
    notice: Notice, customer: Customer, affected: CustomerImpact = NO_IMPACT
) -> dict[str, Any]:
    """The template variables (templating.VARIABLES) for one customer."""
    outage = notice.outage
    site = settings.SITE_URL
    context: dict[str, Any] = {
        "customer": {
            "first_name": templating.greeting_name(customer.preferred_name, customer.language),
            "name": customer.name,
            "segment": customer.segment,
        },
        "time_zone": customer.time_zone,
        "message": notice.message,
        "status_page_url": f"{site}/status/",
        "unsubscribe_url": f"{site}/comms/unsubscribe/",
        "survey_url": f"{site}/survey/",
        "operator": {"name": settings.AMENDS_OPERATOR_NAME},
        "help_line": settings.AMENDS_HELP_LINE,
        "urgent_help": settings.AMENDS_URGENT_HELP,
        "credit": {"amount": Decimal(0), "explanation": ""},
        "outage": None,
        "outage_url": f"{site}/status/",
    }
    if outage is not None:
        context["outage"] = {
            "reference": outage.reference,
            "title": outage.title,
            "summary": outage.public_summary,
            # A phrase completing "likely caused by …": no full stop of its own.
            "cause": outage.cause_public.strip().rstrip("."),
            "areas": affected.areas,
            "services": affected.products,
            "started_at": affected.started_at or outage.started_at,
            "etr": outage.etr,
            "next_update_by": outage.next_update_by,
            "scale": _scale_cached(outage),
            "status": outage.get_status_display().lower(),
            "classification": outage.get_classification_display().lower(),
            "restored_at": affected.restored_at,
        }
        context["outage_url"] = f"{site}/status/{outage.reference}/"
    return context


_SCALE_CACHE: dict[tuple[int, int], str] = {}


def _scale_cached(outage: Outage) -> str:
    key = (outage.pk, outage.affected_services)
    if key not in _SCALE_CACHE:
        _SCALE_CACHE[key] = _scale(outage)
    return _SCALE_CACHE[key]
