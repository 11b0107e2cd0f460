"""Status-page subscribers: anyone (customer or not) who asked to be told about outages in a
postcode, a state or a product kind, by email, SMS or webhook, in English, Chinese or
Vietnamese. Every write here is audited; reading and sending are in ``subscriber_messages``.

Double opt-in
    A request creates (or refreshes) a *pending* subscription and queues one confirmation
    message: a link for email and webhook, a 6-digit code (or a reply of YES) for SMS. Nothing
    else is ever sent to a pending address. A request for an address that is already
    confirmed sends nothing, and the person sees the same page either way: the form never
    tells anyone whether an address is subscribed.

Tokens
    Each subscription has a random ``token_salt``. Its confirmation and unsubscribe tokens
    (and the SMS code) are an HMAC of that salt under ``SECRET_KEY``, and the database keeps
    only their SHA-256, which is what a link is looked up by. So a copy of the database alone
    cannot confirm or unsubscribe anyone, and yet every message can carry a working link
    without the token being stored. Rotating ``SECRET_KEY`` re-derives the tokens: the next
    message stores the new hashes (``current_unsubscribe_token``), older links stop working.

Unsubscribe
    One click (or SMS ``STOP``) ends every subscription of that address: messages are sent
    once per address whatever its number of subscriptions, so stopping one would not stop
    them.

Rate limits
    Per client address (requests an hour) and per subscriber address (confirmation messages
    an hour), in the shared ``RateBucket`` table, so every web worker counts together.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from amends.comms.channels.webhook.guard import RefusedTarget, checked_target
from amends.comms.models import (
    Capability,
    RateBucket,
    Subscriber,
    SubscriberStatus,
    SubscriptionTopic,
)
from amends.core import audit
from amends.core.errors import AmendsError, NotFound
from amends.network.models import ProductKind, State

LANGUAGES = ("en", "zh", "vi")
CHANNELS = (Capability.EMAIL, Capability.SMS, Capability.WEBHOOK)
# The form field that holds the address for each channel, and the one for each topic.
ADDRESS_FIELDS: dict[str, str] = {
    Capability.EMAIL: "email",
    Capability.SMS: "phone",
    Capability.WEBHOOK: "webhook",
}
TOPIC_FIELDS: dict[str, str] = {
    SubscriptionTopic.POSTCODE: "postcode",
    SubscriptionTopic.STATE: "state",
    SubscriptionTopic.PRODUCT: "product",
}
CONFIRM_WITHIN = timedelta(days=7)  # a confirmation link or code expires after this
MAX_CODE_ATTEMPTS = 5  # wrong SMS codes before that pending subscription stops accepting any
_POSTCODE = re.compile(r"[0-9]{4}")
ACTOR = "public"  # how a member of the public appears in the audit log


@dataclass(frozen=True)
class SubscriptionRequest:
    """A request that passed every check: what would be stored."""

    channel: str
    address: str
    topic: str
    value: str
    language: str


# --- checking a request -------------------------------------------------------------------


def _email(raw: str) -> str:
    value = raw.strip()
    try:
        validate_email(value)
    except ValidationError:
        raise AmendsError("enter an email address like name@example.com", field="email") from None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def e164_mobile(raw: str) -> str:
    """The number in E.164 if it is a valid mobile (national numbers in our region)."""
    try:
        number = phonenumbers.parse(raw.strip(), settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    mobile = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in mobile
    ):
        raise AmendsError("enter a mobile number, for example 0412 345 678", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _webhook(raw: str) -> str:
    value = raw.strip()
    if len(value) > 255:
        raise AmendsError("must be at most 255 characters", field="webhook")
    try:
        checked_target(value, allow_private=settings.AMENDS_WEBHOOK_ALLOW_PRIVATE)
    except RefusedTarget:
        raise AmendsError(
            "enter a public http:// or https:// address we can reach", field="webhook"
        ) from None
    except (OSError, UnicodeError, ValueError):
        raise AmendsError("that address's host name does not resolve", field="webhook") from None
    return value


def _address(channel: str, raw: str) -> str:
    if not raw.strip():
        raise AmendsError("is required", field=ADDRESS_FIELDS[channel])
    if channel == Capability.EMAIL:
        return _email(raw)
    if channel == Capability.SMS:
        return e164_mobile(raw)
    return _webhook(raw)


def _topic_value(topic: str, raw: str) -> str:
    value = raw.strip()
    field = TOPIC_FIELDS[topic]
    if topic == SubscriptionTopic.POSTCODE and not _POSTCODE.fullmatch(value):
        raise AmendsError("enter a postcode of 4 digits, for example 2000", field=field)
    if topic == SubscriptionTopic.STATE:
        value = value.upper()
        if value not in State.values:
            raise AmendsError("choose a state or territory", field=field)
    if topic == SubscriptionTopic.PRODUCT and value not in ProductKind.values:
        raise AmendsError("choose a service", field=field)
    return value


class RequestProblems(AmendsError):
    """Every wrong field of a request, by field name (the message names the first)."""

    def __init__(self, problems: dict[str, str]) -> None:
        field, message = next(iter(problems.items()))
        super().__init__(message, field=field)
        self.problems = problems


def check_request(
    *, channel: str, address: str, topic: str, value: str, language: str
) -> SubscriptionRequest:
    """The request as it would be stored, or RequestProblems naming each wrong field."""
    problems: dict[str, str] = {}
    clean: dict[str, str] = {}
    if channel not in CHANNELS:
        problems["channel"] = "choose email, text message or webhook"
    if topic not in TOPIC_FIELDS:
        problems["topic"] = "choose a postcode, a state or a service"
    if language not in LANGUAGES:
        problems["language"] = "choose English, 中文 or Tiếng Việt"
    checks: list[tuple[str, Callable[[str, str], str], str, str]] = []
    if channel in CHANNELS:
        checks.append(("address", _address, channel, address))
    if topic in TOPIC_FIELDS:
        checks.append(("value", _topic_value, topic, value))
    for name, check, kind, raw in checks:
        try:
            clean[name] = check(kind, raw)
        except AmendsError as error:
            problems[error.field or name] = error.message
    if problems:
        raise RequestProblems(problems)
    return SubscriptionRequest(channel, clean["address"], topic, clean["value"], language)


# --- tokens -------------------------------------------------------------------------------


def _derive(salt: str, purpose: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{salt}".encode(), "sha256").digest()


def _token(salt: str, purpose: str) -> str:
    return base64.urlsafe_b64encode(_derive(salt, purpose)[:18]).decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def confirm_token(subscriber: Subscriber) -> str:
    return _token(subscriber.token_salt, "confirm")


def sms_code(subscriber: Subscriber) -> str:
    return f"{int.from_bytes(_derive(subscriber.token_salt, 'code')[:4], 'big') % 1_000_000:06d}"


def current_unsubscribe_token(subscriber: Subscriber) -> str:
    """The token for this subscriber's unsubscribe links; stores its hash again if the secret
    key changed since it was made, so the link in the message being written works."""
    token = _token(subscriber.token_salt, "unsubscribe")
    if token_hash(token) != subscriber.unsubscribe_hash:
        subscriber.unsubscribe_hash = token_hash(token)
        Subscriber.objects.filter(pk=subscriber.pk).update(
            unsubscribe_hash=subscriber.unsubscribe_hash
        )
    return token


def _new_salt(subscriber: Subscriber) -> None:
    subscriber.token_salt = secrets.token_urlsafe(16)
    subscriber.confirm_hash = token_hash(confirm_token(subscriber))
    subscriber.unsubscribe_hash = token_hash(_token(subscriber.token_salt, "unsubscribe"))


# --- rate limits --------------------------------------------------------------------------


def within_rate(kind: str, key: str, *, per_hour: int) -> bool:
    """Take one from the hourly bucket of ``kind``/``key`` (a client or an address); False
    when it is empty. The key is hashed: the bucket table never holds an address."""
    name = f"sub:{kind}:{hashlib.sha256(key.encode()).hexdigest()[:20]}"
    rate = per_hour / 3600
    with transaction.atomic():
        now = timezone.now()
        bucket, _ = RateBucket.objects.select_for_update().get_or_create(
            provider=name, defaults={"tokens": float(per_hour), "updated_at": now}
        )
        tokens = min(
            float(per_hour), bucket.tokens + (now - bucket.updated_at).total_seconds() * rate
        )
        allowed = tokens >= 1
        bucket.tokens, bucket.updated_at = tokens - (1 if allowed else 0), now
        bucket.save(update_fields=["tokens", "updated_at"])
    return allowed


# --- writes -------------------------------------------------------------------------------


def _queue_confirmation(subscriber_id: int) -> None:
    from amends.statuspage.tasks import send_confirmation_task  # tasks import this module

    transaction.on_commit(lambda: send_confirmation_task.enqueue(subscriber_id))


def subscriber_request(*, request: SubscriptionRequest) -> None:
    """Ask for a subscription. Queues a confirmation unless the address is already confirmed
    for this topic or has had its hourly share of confirmations. Returns nothing on purpose:
    the caller must show the same answer whatever happened."""
    now = timezone.now()
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update()
            .filter(
                channel=request.channel,
                address=request.address,
                topic=request.topic,
                value=request.value,
            )
            .first()
        )
        if subscriber is not None and subscriber.status == SubscriberStatus.CONFIRMED:
            return
        if not within_rate(
            "to", request.address, per_hour=settings.AMENDS_SUBSCRIBE_CONFIRMATIONS_PER_HOUR
        ):
            return
        before = None if subscriber is None else {"status": subscriber.status}
        if subscriber is None:
            subscriber = Subscriber(
                channel=request.channel,
                address=request.address,
                topic=request.topic,
                value=request.value,
                created_at=now,
            )
        if subscriber.status != SubscriberStatus.PENDING or subscriber.pk is None:
            _new_salt(subscriber)  # a new subscription, or one ended before: fresh links
            subscriber.code_attempts = 0
        subscriber.status = SubscriberStatus.PENDING
        subscriber.language = request.language
        subscriber.unsubscribed_at = None
        subscriber.save()
        audit.record(
            ACTOR,
            "comms.subscriber_request",
            subscriber,
            before=before,
            after={
                "channel": subscriber.channel,
                "topic": subscriber.topic,
                "value": subscriber.value,
                "language": subscriber.language,
                "status": subscriber.status,
            },
        )
        _queue_confirmation(subscriber.pk)


def _confirm(subscribers: list[Subscriber], *, how: str) -> None:
    now = timezone.now()
    for subscriber in subscribers:
        Subscriber.objects.filter(pk=subscriber.pk, status=SubscriberStatus.PENDING).update(
            status=SubscriberStatus.CONFIRMED, confirmed_at=now
        )
        audit.record(
            ACTOR,
            "comms.subscriber_confirm",
            subscriber,
            before={"status": SubscriberStatus.PENDING},
            after={"status": SubscriberStatus.CONFIRMED, "by": how},
        )
        subscriber.status, subscriber.confirmed_at = SubscriberStatus.CONFIRMED, now


def _still_confirmable(subscriber: Subscriber) -> bool:
    sent = subscriber.confirm_sent_at or subscriber.created_at
    return timezone.now() - sent <= CONFIRM_WITHIN


def subscriber_by_confirm_token(token: str) -> Subscriber:
    """The subscription a confirmation link is for (pending or already confirmed)."""
    subscriber = Subscriber.objects.filter(confirm_hash=token_hash(token)).first()
    usable = subscriber is not None and (
        subscriber.status == SubscriberStatus.CONFIRMED
        or (subscriber.status == SubscriberStatus.PENDING and _still_confirmable(subscriber))
    )
    if subscriber is None or not usable:
        raise NotFound("this confirmation link has expired or was already used", field="token")
    return subscriber


@transaction.atomic
def subscriber_confirm(*, token: str) -> Subscriber:
    """Confirm by link (email and webhook). Confirming twice is harmless."""
    subscriber = subscriber_by_confirm_token(token)
    if subscriber.status == SubscriberStatus.PENDING:
        _confirm([subscriber], how="link")
    return subscriber


def subscriber_confirm_code(*, phone: str, code: str) -> list[Subscriber]:
    """Confirm the pending SMS subscriptions of a number with the code we texted it. Every
    wrong code counts against all of them (and is kept, though the call then fails), so
    guessing stops after ``MAX_CODE_ATTEMPTS``."""
    number = e164_mobile(phone)
    with transaction.atomic():
        pending = [
            s
            for s in Subscriber.objects.select_for_update().filter(
                channel=Capability.SMS, address=number, status=SubscriberStatus.PENDING
            )
            if _still_confirmable(s) and s.code_attempts < MAX_CODE_ATTEMPTS
        ]
        matching = [s for s in pending if hmac.compare_digest(sms_code(s), code.strip())]
        if matching:
            _confirm(matching, how="code")
        else:
            Subscriber.objects.filter(pk__in=[s.pk for s in pending]).update(
                code_attempts=F("code_attempts") + 1
            )
            for subscriber in pending:
                audit.record(
                    ACTOR,
                    "comms.subscriber_code_rejected",
                    subscriber,
                    before={"code_attempts": subscriber.code_attempts},
                    after={"code_attempts": subscriber.code_attempts + 1},
                )
    if not matching:
        raise AmendsError("that code is not right, or it has expired", field="code")
    return matching


def confirm_by_reply(number: str) -> list[Subscriber]:
    """An SMS reply of YES from the number confirms its pending subscriptions."""
    pending = [
        s
        for s in Subscriber.objects.select_for_update().filter(
            channel=Capability.SMS, address=number, status=SubscriberStatus.PENDING
        )
        if _still_confirmable(s)
    ]
    _confirm(pending, how="sms reply")
    return pending


def subscriber_by_unsubscribe_token(token: str) -> Subscriber:
    subscriber = Subscriber.objects.filter(unsubscribe_hash=token_hash(token)).first()
    if subscriber is None:
        raise NotFound("this unsubscribe link is not one of ours", field="token")
    return subscriber


def _end_all(channel: str, address: str, *, how: str) -> int:
    now = timezone.now()
    ended = list(
        Subscriber.objects.select_for_update()
        .filter(channel=channel, address=address)
        .exclude(status=SubscriberStatus.UNSUBSCRIBED)
    )
    for subscriber in ended:
        audit.record(
            ACTOR,
            "comms.subscriber_unsubscribe",
            subscriber,
            before={"status": subscriber.status},
            after={"status": SubscriberStatus.UNSUBSCRIBED, "by": how},
        )
    return Subscriber.objects.filter(pk__in=[s.pk for s in ended]).update(
        status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=now
    )


@transaction.atomic
def subscriber_unsubscribe(*, token: str) -> Subscriber:
    """One click: every subscription of the link's address ends. Repeating it is harmless."""
    subscriber = subscriber_by_unsubscribe_token(token)
    _end_all(subscriber.channel, subscriber.address, how="link")
    subscriber.refresh_from_db()
    return subscriber


def unsubscribe_number(number: str) -> int:
    """SMS STOP from a subscriber's number; returns how many subscriptions ended."""
    return _end_all(Capability.SMS, number, how="sms stop")
