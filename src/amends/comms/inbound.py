"""Two-way SMS: understand STATUS, STOP, START, STILL OUT and (from status subscribers) YES;
keep everything else as an inbound contact linked to the customer and outage. Nothing a person
sends us is dropped. STOP ends a number's status-page subscriptions as well as a customer's
outage texts; START gives a customer theirs back, but a subscription needs a new sign-up (and
its confirmation), so an old reply cannot re-subscribe a number that changed hands."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from amends.comms import replies, subscriber_messages, subscribers
from amends.comms.models import InboundMessage, Keyword, Subscriber
from amends.core import audit
from amends.network.models import Customer, ProductKind
from amends.outages.models import Impact, Outage
from amends.outages.queries import localized
from amends.outages.services import outage_still_out

_KEYWORDS = {
    "STATUS": Keyword.STATUS,
    "STOP": Keyword.STOP,
    "STOPALL": Keyword.STOP,
    "UNSUBSCRIBE": Keyword.STOP,
    "START": Keyword.START,
    "UNSTOP": Keyword.START,
    "STILL OUT": Keyword.STILL_OUT,
    "STILLOUT": Keyword.STILL_OUT,
    "YES": Keyword.CONFIRM,
}


@dataclass(frozen=True)
class InboundResult:
    message: InboundMessage
    reply: str


def keyword_of(text: str) -> str:
    words = re.sub(r"[^A-Z ]", "", text.upper()).split()
    for length in (2, 1):
        candidate = " ".join(words[:length])
        if candidate in _KEYWORDS and len(words) == length:
            return _KEYWORDS[candidate]
    return Keyword.NONE


def _e164(sender: str) -> str:
    try:
        number = phonenumbers.parse(sender, settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return sender.strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _current_outage(customer: Customer) -> tuple[Outage | None, bool]:
    """(the outage that matters to the customer, whether they are still affected by it)."""
    impact = (
        Impact.objects.filter(customer=customer)
        .select_related("outage")
        .order_by("window_end", "-window_start")
        .first()
    )  # open windows sort first
    if impact is None:
        return None, False
    open_impact = Impact.objects.filter(customer=customer, window_end__isnull=True).first()
    if open_impact is not None:
        return open_impact.outage, True
    return impact.outage, False


def _status_reply(customer: Customer | None, outage: Outage | None, affected: bool) -> str:
    page = f"{settings.SITE_URL}/status/"
    language = replies.reply_language(customer.language if customer else None)
    if customer is None or outage is None or not affected:
        return replies.reply("no_outage", language, page=page)
    return replies.reply(
        "status",
        language,
        title=localized(outage, "title", language),
        when=replies.reply_when(outage.etr, language, customer.time_zone),
        url=f"{page}{outage.reference}/",
    )


def _still_out_reply(number: str, customer: Customer, outage: Outage, affected: bool) -> str:
    """A text from the customer's mobile number proves their mobile works, so only their other
    services in the outage are reopened; when the mobile is all they have in it, we ask which
    service they mean (their answer is kept as an inbound message for the team) and reopen
    nothing."""
    report = outage_still_out(
        actor=f"sms:{number}", outage=outage, customer=customer, working_kind=ProductKind.MOBILE
    )
    language = replies.reply_language(customer.language)
    if report.reopened:
        return replies.reply("still_out", language)
    if not report.in_outage:
        return replies.reply("which_service", language, help_line=settings.AMENDS_HELP_LINE)
    return _status_reply(customer, outage, affected)


def _confirm_reply(confirmed: list[Subscriber]) -> str:
    if not confirmed:
        return ""
    topics = ", ".join(subscriber_messages.topic_words(s, "en") for s in confirmed)
    return f"Thanks: we'll text you about {topics}. Reply STOP to stop."


def receive_sms(*, sender: str, text: str, provider_id: str = "") -> InboundResult:
    """Keep, understand and answer one text. A provider that retries its webhook (Twilio does
    when our answer is slow or lost) sends the same message id again: that is answered as the
    first time was, and changes nothing (no second STOP audit, no second reopening)."""
    earlier = _received(provider_id)
    if earlier is not None:
        return earlier
    try:
        return _receive_sms(sender=sender, text=text, provider_id=provider_id)
    except IntegrityError:  # the same retry, handled meanwhile by another request
        earlier = _received(provider_id)
        if earlier is None:
            raise
        return earlier


def _received(provider_id: str) -> InboundResult | None:
    if not provider_id:
        return None
    message = InboundMessage.objects.filter(channel="sms", provider_id=provider_id).first()
    return None if message is None else InboundResult(message, message.reply)


@transaction.atomic
def _receive_sms(*, sender: str, text: str, provider_id: str) -> InboundResult:
    number = _e164(sender)
    customer = Customer.objects.filter(mobile=number).order_by("id").first()
    keyword = keyword_of(text)
    outage, affected = _current_outage(customer) if customer else (None, False)
    reply = ""
    language = replies.reply_language(customer.language if customer else None)
    if keyword == Keyword.STATUS:
        reply = _status_reply(customer, outage, affected)
    elif keyword in (Keyword.STOP, Keyword.START) and customer is not None:
        consent = keyword == Keyword.START
        Customer.objects.filter(pk=customer.pk).update(consent_sms=consent)
        audit.record(
            f"sms:{number}",
            "comms.sms_consent",
            customer,
            before={"consent_sms": customer.consent_sms},
            after={"consent_sms": consent},
        )
        reply = replies.reply("start" if consent else "stop", language)
        if not consent:
            subscribers.unsubscribe_number(number)
    elif keyword == Keyword.STOP and subscribers.unsubscribe_number(number):
        reply = replies.reply("stop_subscriber", language)
    elif keyword == Keyword.CONFIRM:
        reply = _confirm_reply(subscribers.confirm_by_reply(number))
    elif keyword == Keyword.STILL_OUT and customer is not None and outage is not None:
        reply = _still_out_reply(number, customer, outage, affected)
    message = InboundMessage.objects.create(
        channel="sms",
        sender=number,
        text=text,
        keyword=keyword,
        customer=customer,
        outage=outage,
        reply=reply,
        provider_id=provider_id,
        received_at=timezone.now(),
    )
    return InboundResult(message, reply)
