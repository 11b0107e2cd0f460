"""What each claimed delivery says: its context, the rendered message, and whether it may go
now (quiet hours, the per-customer hourly cap)."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from django.conf import settings
from django.db import connection
from django.utils import timezone

from amends.comms import links, subscriber_messages, templating
from amends.comms.batchsql import clock, id_in, moment
from amends.comms.channels.base import OutboundMessage
from amends.comms.context_providers import recipient_context
from amends.comms.models import (
    OPTIONAL_KINDS,
    STALE_ON_RESTORE,
    Delivery,
    DeliveryStatus,
    MessageTemplate,
    Notice,
    NoticeKind,
)
from amends.comms.outbound import outbound_message
from amends.core import urgent_help
from amends.core.money import DEFAULT_CURRENCY
from amends.outages.models import Impact, Outage
from amends.outages.queries import localized, primary_language
from amends.statuspage.strings import STRINGS, Strings

Deferred = tuple[Delivery, datetime]


@dataclass
class Prepared:
    ready: list[tuple[Delivery, OutboundMessage]] = field(default_factory=list)
    deferred: list[Deferred] = field(default_factory=list)  # quiet hours, hourly cap
    unrenderable: list[tuple[Delivery, str]] = field(default_factory=list)
    superseded: list[Delivery] = field(default_factory=list)  # out of date: customer restored


class Recipient(Protocol):
    """What a message needs of a customer (a ``Customer`` has it, so has ``CustomerFacts``)."""

    @property
    def pk(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def preferred_name(self) -> str: ...
    @property
    def segment(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def time_zone(self) -> str: ...


class CustomerFacts(NamedTuple):
    """One customer as a batch reads them: one query for all, no model instances."""

    pk: int
    name: str
    preferred_name: str
    segment: str
    language: str
    time_zone: str
    quiet_hours_start: time | None
    quiet_hours_end: time | None


def customer_facts(customer_ids: list[int]) -> dict[int, CustomerFacts]:
    where, params = id_in("id", customer_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            # Only placeholders are formatted into the statement; every value is a parameter.
            "SELECT id, name, preferred_name, segment, language, time_zone, "  # noqa: S608
            f"quiet_hours_start, quiet_hours_end FROM network_customer WHERE {where}",
            params,
        )
        return {
            customer_id: CustomerFacts(
                customer_id,
                name,
                preferred_name,
                segment,
                language,
                time_zone,
                clock(start),
                clock(end),
            )
            for customer_id, name, preferred_name, segment, language, time_zone, start, end in (
                cursor.fetchall()
            )
        }


def build_messages(deliveries: list[Delivery]) -> Prepared:
    """Render each delivery, or say until when it must wait, or why it cannot be written
    (no template for that channel, e.g. a stakeholder notice by SMS).

    Per batch, each fact is read once: the customers, their own outage windows, the
    operator's wording, other apps' per-customer facts, each notice's shared context.
    """
    now = timezone.now()
    prepared = Prepared()
    _prepare_for_subscribers([d for d in deliveries if d.subscriber_id is not None], prepared)
    prepared.ready.extend(
        (d, _outbound(d, staff_rendered(d.notice), {})) for d in deliveries if d.staff_id
    )
    deliveries = [d for d in deliveries if d.subscriber_id is None and d.staff_id is None]
    facts = customer_facts([d.customer_id for d in deliveries if d.customer_id is not None])
    over_cap = _customers_over_cap([d for d in deliveries if not d.notice.urgent], now=now)
    affected = customer_impacts(deliveries)
    overrides = operator_templates(deliveries)
    extra = recipient_context(deliveries)  # other apps' per-customer facts, one query each
    shared: dict[tuple[int, str], SharedContext] = {}  # per notice × language worded in
    for delivery in deliveries:
        # Only customers' deliveries are left (a delivery has exactly one recipient).
        assert delivery.customer_id is not None
        customer = facts.get(delivery.customer_id)
        if customer is None:
            prepared.unrenderable.append((delivery, "the customer is no longer on record"))
            continue
        impact = affected.get((delivery.notice.outage_id or 0, delivery.customer_id), NO_IMPACT)
        if delivery.notice.kind in STALE_ON_RESTORE and impact.restored_at is not None:
            # Restored since the dispatcher's last look: "it went down" would be false now.
            prepared.superseded.append(delivery)
            continue
        capped = delivery.customer_id in over_cap
        wait = None if delivery.notice.urgent else _wait_until(customer, capped=capped, now=now)
        if wait is not None:
            prepared.deferred.append((delivery, wait))
            continue
        language = served_language(delivery.language)
        override = pick_template(overrides, delivery.notice.kind, delivery.channel, language)
        worded_in = templating.template_language(
            delivery.notice.kind, delivery.channel, language, override
        )
        key = (delivery.notice_id, worded_in)
        if key not in shared:
            shared[key] = _shared_context(delivery.notice, worded_in)
        context = _with_recipient(shared[key], customer, impact)
        context.update(extra.get((delivery.notice_id, delivery.customer_id), {}))
        try:
            rendered = templating.render(
                delivery.notice.kind, delivery.channel, language, context, override=override
            )
        except (templating.MissingTemplate, templating.TemplateProblem) as exc:
            prepared.unrenderable.append((delivery, str(exc)))
            continue
        prepared.ready.append((delivery, _outbound(delivery, rendered, context)))
    return prepared


def _prepare_for_subscribers(deliveries: list[Delivery], prepared: Prepared) -> None:
    """Status subscribers' messages: no quiet hours, cap or hold (see subscriber_messages)."""
    for delivery in deliveries:
        try:
            rendered, context = subscriber_messages.render_change(delivery)
        except (templating.MissingTemplate, templating.TemplateProblem) as exc:
            prepared.unrenderable.append((delivery, str(exc)))
            continue
        prepared.ready.append((delivery, _outbound(delivery, rendered, context)))


def staff_rendered(notice: Notice) -> templating.Rendered:
    """A message to staff (see ``comms.staff_alerts``): the notice's first line is the
    subject, the rest the text; English, the console's language."""
    subject, _, text = notice.message.partition("\n\n")
    return templating.Rendered(subject=subject, text=text, html="", language="en")


def _outbound(
    delivery: Delivery, rendered: templating.Rendered, context: dict[str, Any]
) -> OutboundMessage:
    # Subscribers asked for these messages and can always stop them, urgent or not; a
    # customer's context has an unsubscribe link only for what unsubscribing stops (staff
    # messages have none: their work, with nothing to unsubscribe from).
    return outbound_message(
        delivery_id=delivery.pk,
        key=delivery.idempotency_key,
        channel=delivery.channel,
        to=delivery.address,
        rendered=rendered,
        unsubscribe_url=context.get("unsubscribe_url") or None,
    )


def _wait_until(customer: CustomerFacts, *, capped: bool, now: datetime) -> datetime | None:
    """When a non-urgent message to the customer may go, if not now."""
    return _quiet_until(customer, now) or (now + timedelta(hours=1) if capped else None)


def _quiet_until(customer: CustomerFacts, now: datetime) -> datetime | None:
    """When the customer's quiet hours end, if ``now`` falls inside them."""
    start, end = customer.quiet_hours_start, customer.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    try:
        zone = zoneinfo.ZoneInfo(customer.time_zone)
    except zoneinfo.ZoneInfoNotFoundError:
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    clock_now = local.time()
    inside = start <= clock_now < end if start < end else (clock_now >= start or clock_now < end)
    if not inside:
        return None
    end_day = local.date() if clock_now < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=zone)


def _customers_over_cap(deliveries: list[Delivery], *, now: datetime) -> set[int]:
    """Customers already sent AMENDS_CUSTOMER_HOURLY_CAP messages in the last hour."""
    if not deliveries:
        return set()
    customers = {d.customer_id for d in deliveries if d.customer_id is not None}
    where, params = id_in("customer_id", list(customers))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id FROM comms_delivery WHERE {where} "  # noqa: S608
            "AND status IN (%s, %s) AND sent_at >= %s GROUP BY customer_id HAVING COUNT(*) >= %s",
            [
                *params,
                DeliveryStatus.SENT,
                DeliveryStatus.DELIVERED,
                connection.ops.adapt_datetimefield_value(now - timedelta(hours=1)),
                settings.AMENDS_CUSTOMER_HOURLY_CAP,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


@dataclass(frozen=True)
class CustomerImpact:
    """One customer's own view of the outage."""

    areas: list[str]
    products: list[str]  # the products' own names (English)
    started_at: datetime | None
    restored_at: datetime | None  # when their last open window closed; None while out
    kinds: list[str] = field(default_factory=list)  # the products' kinds, worded per language


NO_IMPACT = CustomerImpact([], [], None, None)


def customer_impacts(deliveries: list[Delivery]) -> dict[tuple[int, int], CustomerImpact]:
    """Each customer's affected localities, products and own window in each delivery's outage,
    by (outage id, customer id): one query per outage."""
    by_outage: dict[int, set[int]] = defaultdict(set)
    for d in deliveries:
        if d.notice.outage_id and d.customer_id is not None:
            by_outage[d.notice.outage_id].add(d.customer_id)
    details: dict[tuple[int, int], CustomerImpact] = {}
    for outage_id, customers in by_outage.items():
        details.update(
            ((outage_id, customer_id), impact)
            for customer_id, impact in _impacts_in(outage_id, customers).items()
        )
    return details


def _impacts_in(outage_id: int, customers: set[int]) -> dict[int, CustomerImpact]:
    where, params = id_in("i.customer_id", list(customers))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.customer_id, s.locality, p.name, p.kind, i.window_start, "  # noqa: S608
            "i.window_end "
            "FROM outages_impact i JOIN network_service s ON s.id = i.service_id "
            "JOIN network_product p ON p.id = s.product_id "
            f"WHERE i.outage_id = %s AND {where}",
            [outage_id, *params],
        )
        rows = cursor.fetchall()
    areas: dict[int, set[str]] = defaultdict(set)
    products: dict[int, set[str]] = defaultdict(set)
    kinds: dict[int, set[str]] = defaultdict(set)
    starts: dict[int, list[datetime]] = defaultdict(list)
    ends: dict[int, list[datetime | None]] = defaultdict(list)
    for customer_id, locality, product, kind, start, end in rows:
        areas[customer_id].add(locality.title())
        products[customer_id].add(product)
        kinds[customer_id].add(kind)
        starts[customer_id].append(moment(start))
        ends[customer_id].append(None if end is None else moment(end))
    details = {}
    for customer_id in customers:
        closed = [e for e in ends[customer_id] if e is not None]
        still_out = None in ends[customer_id] or not closed
        details[customer_id] = CustomerImpact(
            sorted(areas[customer_id]),
            sorted(products[customer_id]),
            min(starts[customer_id], default=None),
            None if still_out else max(closed),
            sorted(kinds[customer_id]),
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


def served_language(tag: str) -> str:
    """The customer's language tag if the operator serves it (AMENDS_LANGUAGES), else
    English: a language nobody wrote templates or translations for is never half-served."""
    return tag if primary_language(tag) in settings.AMENDS_LANGUAGES else "en"


def _states(outage: Outage) -> list[str]:
    return sorted(
        set(
            Impact.objects.filter(outage=outage)
            .values_list("service__state", flat=True)
            .distinct()[:9]
        )
    )


def message_context(
    notice: Notice, customer: Recipient, affected: CustomerImpact = NO_IMPACT, language: str = "en"
) -> dict[str, Any]:
    """The template variables (templating.VARIABLES) for one customer, the outage's words
    in ``language``, the language the message is worded in (templating.template_language)."""
    return _with_recipient(_shared_context(notice, language), customer, affected)


@dataclass(frozen=True)
class SharedContext:
    """What every recipient of a notice is told alike, worked out once per batch."""

    variables: dict[str, Any]
    outage: dict[str, Any] | None  # the outage's own facts; None for a notice without one
    started_at: datetime | None  # when the outage started, for customers with no window
    notice: Notice
    language: str = "en"  # the language the message is worded in


def _shared_context(notice: Notice, language: str) -> SharedContext:
    """What every recipient reading the notice in ``language`` is told alike."""
    outage = notice.outage
    site = settings.SITE_URL
    variables: dict[str, Any] = {
        "message": notice.message,
        "status_page_url": f"{site}/status/",
        "unsubscribe_url": "",  # personal links: see _personal_links
        "preferences_url": "",
        "survey_url": "",
        "operator": {"name": settings.AMENDS_OPERATOR_NAME},
        "help_line": settings.AMENDS_HELP_LINE,
        **urgent_help.for_messages("en"),
        "credit": {"amount": Decimal(0), "explanation": "", "url": ""},
        "currency": DEFAULT_CURRENCY,
        "outage": None,
        "outage_url": f"{site}/status/",
    }
    if outage is None:
        return SharedContext(variables, None, None, notice, language)
    variables["outage_url"] = f"{site}/status/{outage.reference}/"
    states = _states_cached(outage)
    facts = {
        "reference": outage.reference,
        "title": localized(outage, "title", language),
        "summary": localized(outage, "public_summary", language),
        # Past tense, once it is over: what restored, apology and credit messages say.
        "what_happened": localized(outage, "resolution_summary", language).strip(),
        # A phrase completing "likely caused by …": no full stop of its own.
        "cause": localized(outage, "cause_public", language).strip().rstrip(".。"),
        "etr": outage.etr,
        "next_update_by": outage.next_update_by,
        "affected_services": outage.affected_services,
        "states": states,
        "scale": templating.scale_phrase(outage.affected_services, states, language),
        "status": _status_words(outage, language),
        "classification": _CLASSIFICATION_WORDS.get(primary_language(language), {}).get(
            outage.classification, outage.get_classification_display().lower()
        ),
    }
    return SharedContext(variables, facts, outage.started_at, notice, language)


# The regulator's classes in the languages we ship (English: the model's own labels).
_CLASSIFICATION_WORDS = {
    "zh": {"major": "重大中断", "significant_local": "重大局部中断", "local": "局部中断"},
    "vi": {
        "major": "sự cố lớn",
        "significant_local": "sự cố cục bộ nghiêm trọng",
        "local": "sự cố cục bộ",
    },
}


def _status_words(outage: Outage, language: str) -> str:
    """Where we are, in words: the status page's own words in zh and vi."""
    primary = primary_language(language)
    if primary in STRINGS and primary != "en":
        return Strings(primary)(f"status_{outage.status}")
    return outage.get_status_display().lower()


def _service_words(affected: CustomerImpact, language: str) -> list[str]:
    """The customer's affected services: the products' names in English, the status
    page's words for their kinds in zh and vi (a product name is the operator's English)."""
    primary = primary_language(language)
    if primary == "en" or primary not in STRINGS:
        return affected.products
    words = Strings(primary)
    return list(dict.fromkeys(words(f"kind_{kind}") for kind in affected.kinds))


def _with_recipient(
    shared: SharedContext, customer: Recipient, affected: CustomerImpact
) -> dict[str, Any]:
    """One customer's context: the shared part (its dicts shared too: templates run in an
    immutable sandbox) with their name, time zone and own view of the outage."""
    context = dict(shared.variables)
    context["customer"] = {
        "first_name": templating.greeting_name(customer.preferred_name, customer.language),
        "name": customer.name,
        "segment": customer.segment,
    }
    context["time_zone"] = customer.time_zone
    context.update(_personal_links(shared.notice, customer.pk))
    context.update(urgent_help.for_messages(shared.language))
    if shared.outage is not None:
        context["outage"] = {
            **shared.outage,
            "areas": affected.areas,
            "services": _service_words(affected, shared.language),
            "started_at": affected.started_at or shared.started_at,
            "restored_at": affected.restored_at,
        }
    return context


def _personal_links(notice: Notice, customer_id: int) -> dict[str, str]:
    """The customer's own links (``comms.links``): preferences always; one-click unsubscribe
    only where it stops this message (``OPTIONAL_KINDS``, not urgent); the survey's on a
    survey."""
    optional = notice.kind in OPTIONAL_KINDS and not notice.urgent
    return {
        "preferences_url": links.preferences_url(customer_id),
        "unsubscribe_url": links.unsubscribe_url(customer_id) if optional else "",
        "survey_url": links.survey_url(customer_id, notice.pk)
        if notice.kind == NoticeKind.SURVEY
        else "",
    }


_STATES_CACHE: dict[tuple[int, int], list[str]] = {}


def _states_cached(outage: Outage) -> list[str]:
    """The outage's states, read once per size of the outage (a batch renders thousands)."""
    key = (outage.pk, outage.affected_services)
    if key not in _STATES_CACHE:
        _STATES_CACHE[key] = _states(outage)
    return _STATES_CACHE[key]
