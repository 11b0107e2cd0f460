"""Email through an ESP's HTTP API with django-anymail; Postmark is the one configured
(ANYMAIL["POSTMARK_SERVER_TOKEN"], ANYMAIL["POSTMARK_API_URL"]).

Messages with the same subject and bodies go out as one anymail batch send: one call to
Postmark's ``/email/batch`` for many recipients, each with its own headers (Message-ID,
List-Unsubscribe) and metadata (delivery id, idempotency key). Postmark has no idempotency
key, so the stable Message-ID and the metadata are what a duplicate can be recognised by.
Personalised messages simply form groups of one.
"""

from __future__ import annotations

from collections.abc import Sequence

from anymail.exceptions import AnymailError, AnymailRequestsAPIError
from anymail.message import AnymailMessage, AnymailRecipientStatus
from anymail.signals import AnymailTrackingEvent
from anymail.utils import parse_single_address
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

from amends.comms.channels.base import ChannelError, OutboundMessage, Receipt, SendResult
from amends.comms.channels.email_message import email_headers
from amends.comms.channels.http_errors import ACCOUNT_REFUSED, failure_for_status
from amends.comms.channels.sending import failed, send_grouped, sent

__all__ = ["PostmarkChannel", "from_settings", "receipt_from_tracking"]

POSTMARK_BACKEND = "anymail.backends.postmark.EmailBackend"
# Anymail's per-recipient statuses: accepted, or refused for good (bounced before, invalid).
_ACCEPTED = frozenset({"sent", "queued"})
_REFUSED = frozenset({"rejected", "invalid"})
# Tracking events that settle a delivery; "rejected" means the ESP will never send to them.
_RECEIPT_STATUS = {
    "delivered": "delivered",
    "bounced": "bounced",
    "rejected": "bounced",
    "failed": "failed",
}


def addr_spec(to: str) -> str | None:
    """The address as anymail keys its merge data by, or None if it is not an address."""
    try:
        return str(parse_single_address(to).addr_spec)
    except AnymailError:
        return None


def group_identical(messages: Sequence[OutboundMessage]) -> list[list[int]]:
    """Positions grouped by identical content; an address appears at most once per group,
    since anymail reports one status per address."""
    groups: list[tuple[tuple[str, str, str], set[str], list[int]]] = []
    for position, message in enumerate(messages):
        content = (message.subject, message.text, message.html)
        address = (addr_spec(message.to) or message.to).lower()
        group = next((g for g in groups if g[0] == content and address not in g[1]), None)
        if group is None:
            group = (content, set(), [])
            groups.append(group)
        group[1].add(address)
        group[2].append(position)
    return [positions for _, _, positions in groups]


def result_for(message: OutboundMessage, status: AnymailRecipientStatus | None) -> SendResult:
    if status is None:
        return failed(message, "Postmark gave no status for this address", permanent=False)
    if status.status in _ACCEPTED:
        return sent(message, str(status.message_id))
    permanent = status.status in _REFUSED
    return failed(message, f"Postmark: recipient {status.status}", permanent=permanent)


def build_batch(messages: list[OutboundMessage], connection: BaseEmailBackend) -> AnymailMessage:
    """One anymail batch send of identical content, with per-recipient headers and metadata."""
    first = messages[0]
    addresses = [str(addr_spec(m.to)) for m in messages]
    email = AnymailMessage(
        subject=first.subject,
        body=first.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[m.to for m in messages],
        connection=connection,
        merge_headers={a: email_headers(m) for a, m in zip(addresses, messages, strict=True)},
        merge_metadata={
            a: {"delivery_id": str(m.delivery_id), "idempotency_key": m.idempotency_key}
            for a, m in zip(addresses, messages, strict=True)
        },
    )
    if first.html:
        email.attach_alternative(first.html, "text/html")
    return email


class PostmarkChannel:
    capability = "email"
    name = "postmark"

    def __init__(
        self, *, timeout: float, rate_per_second: float = 50.0, batch_size: int = 500
    ) -> None:
        self.timeout = timeout
        self.rate_per_second = rate_per_second
        self.batch_size = batch_size  # Postmark's limit for one /email/batch call

    def send_batch(self, messages: list[OutboundMessage]) -> list[SendResult]:
        connection = get_connection(
            POSTMARK_BACKEND, ignore_recipient_status=True, timeout=self.timeout
        )
        with connection:
            return send_grouped(
                messages,
                group_identical(messages),
                lambda group: self._send_group(connection, group),
            )

    def _send_group(
        self, connection: BaseEmailBackend, group: list[OutboundMessage]
    ) -> list[SendResult]:
        results = {
            i: failed(m, f"invalid email address {m.to!r}", permanent=True)
            for i, m in enumerate(group)
            if addr_spec(m.to) is None
        }
        valid = [i for i in range(len(group)) if i not in results]
        if valid:
            sent_results = self._post(connection, [group[i] for i in valid])
            results.update(zip(valid, sent_results, strict=True))
        return [results[i] for i in range(len(group))]

    def _post(
        self, connection: BaseEmailBackend, messages: list[OutboundMessage]
    ) -> list[SendResult]:
        email = build_batch(messages, connection)
        try:
            email.send()
        except AnymailRequestsAPIError as exc:
            if exc.status_code is None or exc.status_code in ACCOUNT_REFUSED:
                raise ChannelError(f"Postmark not usable: {exc}") from exc
            return [failure_for_status(m, exc.status_code, str(exc)) for m in messages]
        except AnymailError as exc:  # a message anymail will not build: retrying cannot help
            return [failed(m, str(exc), permanent=True) for m in messages]
        statuses = {a.lower(): s for a, s in email.anymail_status.recipients.items()}
        return [result_for(m, statuses.get(str(addr_spec(m.to)).lower())) for m in messages]


def receipt_from_tracking(event: AnymailTrackingEvent) -> Receipt | None:
    """A Receipt from anymail's normalised tracking event (its ``tracking`` signal), or None
    for events that do not settle a delivery (queued, opened, clicked, …)."""
    status = _RECEIPT_STATUS.get(event.event_type)
    if status is None or not event.message_id:
        return None
    error = event.description or event.mta_response or event.reject_reason or ""
    return Receipt(provider_id=str(event.message_id), status=status, error=str(error))


def from_settings() -> PostmarkChannel:
    return PostmarkChannel(timeout=settings.AMENDS_CHANNEL_TIMEOUT)
