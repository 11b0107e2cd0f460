"""Writes a customer makes themselves, through a personal link in a message (no login): stop
the messages they can do without, and set how they want to hear from us. Each is audited."""

from __future__ import annotations

import zoneinfo
from dataclasses import asdict, dataclass
from datetime import time

from django.db import transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError
from amends.network.models import Customer

ACTOR = "customer"  # how the customer appears in the audit log: by the link, not a login
CHANNELS = ("email", "sms", "push", "voice")


@dataclass(frozen=True)
class Preferences:
    """What the preferences page sets: consent per channel, their order, language, quiet
    hours (both or neither) and the time zone those hours are in."""

    channel_order: tuple[str, ...]
    consent: frozenset[str]
    language: str
    quiet_hours_start: time | None
    quiet_hours_end: time | None
    time_zone: str


def customer_preferences(customer: Customer) -> Preferences:
    order = tuple(c for c in customer.channel_order.split(";") if c in CHANNELS)
    return Preferences(
        channel_order=order + tuple(c for c in CHANNELS if c not in order),
        consent=frozenset(c for c in CHANNELS if getattr(customer, f"consent_{c}")),
        language=customer.language,
        quiet_hours_start=customer.quiet_hours_start,
        quiet_hours_end=customer.quiet_hours_end,
        time_zone=customer.time_zone,
    )


def _checked(preferences: Preferences) -> None:
    if sorted(preferences.channel_order) != sorted(CHANNELS):
        raise AmendsError("list each channel once: email, sms, push, voice", field="channel_order")
    if not preferences.consent <= set(CHANNELS):
        raise AmendsError("choose among email, sms, push and voice", field="consent")
    if not preferences.language or len(preferences.language) > 16:
        raise AmendsError("choose a language", field="language")
    if (preferences.quiet_hours_start is None) != (preferences.quiet_hours_end is None):
        raise AmendsError("give both the start and the end, or neither", field="quiet_hours")
    try:
        zoneinfo.ZoneInfo(preferences.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise AmendsError(
            "choose a time zone such as Australia/Sydney", field="time_zone"
        ) from None


def _snapshot(customer: Customer) -> dict[str, object]:
    preferences = customer_preferences(customer)
    return {**asdict(preferences), "consent": sorted(preferences.consent)}


def customer_set_preferences(*, customer_id: int, preferences: Preferences) -> Customer:
    """Save what the customer chose on their preferences page; wrong input changes nothing."""
    _checked(preferences)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        before = _snapshot(customer)
        customer.channel_order = ";".join(preferences.channel_order)
        for channel in CHANNELS:
            setattr(customer, f"consent_{channel}", channel in preferences.consent)
        customer.language = preferences.language
        customer.quiet_hours_start = preferences.quiet_hours_start
        customer.quiet_hours_end = preferences.quiet_hours_end
        customer.time_zone = preferences.time_zone
        customer.save()
        audit.record(ACTOR, "customer.preferences", customer, before, _snapshot(customer))
    return customer


def customer_unsubscribe(*, customer_id: int, how: str) -> Customer:
    """Stop the messages they can do without; a second click changes nothing (and logs
    nothing), so a mail client's one-click POST and the page's button can both arrive."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        if customer.unsubscribed_at is None:
            customer.unsubscribed_at = timezone.now()
            customer.save(update_fields=["unsubscribed_at"])
            audit.record(ACTOR, "customer.unsubscribe", customer, None, {"how": how})
    return customer


def customer_resubscribe(*, customer_id: int) -> Customer:
    """Undo ``customer_unsubscribe`` (from their preferences page)."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        if customer.unsubscribed_at is not None:
            before = {"unsubscribed_at": customer.unsubscribed_at.isoformat()}
            customer.unsubscribed_at = None
            customer.save(update_fields=["unsubscribed_at"])
            audit.record(ACTOR, "customer.resubscribe", customer, before, None)
    return customer
