"""What every channel adapter is: one provider for one capability (email, sms, push, voice,
webhook, social), sending batches of already-rendered messages.

Core code asks the registry for a capability ("sms"), never for a vendor. An adapter:

* sends a batch and returns one SendResult per message, in order, never raising for a single
  message's failure (it says so in that message's result);
* raises ChannelError only when the whole batch could not be attempted (provider down);
* passes each message's ``idempotency_key`` to the provider where the provider supports it,
  so a batch re-sent after a crash is not delivered twice;
* classifies failures as permanent (this address will never work: bounce, invalid number,
  unsubscribed) or temporary (timeout, 429, 5xx: retry later).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class ChannelError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class OutboundMessage:
    delivery_id: int
    idempotency_key: str  # stable per (notice, customer, channel): "n12-c3456-sms"
    capability: str
    to: str  # email address, E.164 number, push token or URL
    subject: str = ""  # email subject, push title
    text: str = ""  # email text part, SMS, push body, voice script, social post, webhook JSON
    html: str = ""  # email HTML part
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe
    message_id: str = ""  # email Message-ID, stable across retries


@dataclass(frozen=True)
class SendResult:
    delivery_id: int
    ok: bool
    provider_id: str = ""
    error: str = ""
    permanent: bool = False


@dataclass(frozen=True)
class Receipt:
    """A provider's later word on a message: delivered, failed or bounced."""

    provider_id: str
    status: str  # "delivered" | "failed" | "bounced"
    error: str = ""


class Channel(Protocol):
    capability: str  # "email", "sms", "push", "voice", "webhook", "social"
    name: str  # "smtp", "twilio", "http", "outbox", …
    rate_per_second: float  # the provider's limit, shared by all workers
    batch_size: int

    def send_batch(self, messages: list[OutboundMessage]) -> list[SendResult]: ...
