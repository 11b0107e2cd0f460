"""Webhooks to subscribers' URLs, signed the Standard Webhooks way so any of its libraries can
verify them: ``webhook-id`` (our idempotency key: a retry has the same id, so the receiver can
drop it), ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
``"{id}.{timestamp}.{body}"`` with the secret ``whsec_<base64>``.

Each message goes to its own receiver, so one receiver's failure never stops the batch.
Redirects are not followed: the guard checked this URL, not the one a redirect names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

import httpx
from django.conf import settings

from amends.comms.channels.base import OutboundMessage, SendResult
from amends.comms.channels.http_errors import describe, failure_for_status, pooled_client
from amends.comms.channels.sending import failed, sent
from amends.comms.channels.webhook.guard import RefusedTarget, checked_target
from amends.env import ConfigurationError

__all__ = ["WebhookChannel", "from_settings", "secret_key", "signature"]

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)


def secret_key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ConfigurationError("AMENDS_WEBHOOK_SECRET must look like whsec_<base64>")
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ConfigurationError("AMENDS_WEBHOOK_SECRET is not whsec_ + base64") from None


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class WebhookChannel:
    capability = "webhook"
    name = "http"

    def __init__(
        self,
        *,
        key: bytes,
        client: httpx.Client,
        allow_private: bool = False,
        rate_per_second: float = 20.0,
        batch_size: int = 50,
    ) -> None:
        self.rate_per_second = rate_per_second
        self.batch_size = batch_size
        self._key = key
        self._client = client
        self._allow_private = allow_private

    def send_batch(self, messages: list[OutboundMessage]) -> list[SendResult]:
        return [self._send(message) for message in messages]

    def _send(self, message: OutboundMessage) -> SendResult:
        try:
            target = checked_target(message.to, allow_private=self._allow_private)
        except RefusedTarget as exc:
            return failed(message, str(exc), permanent=True)
        except OSError as exc:  # the name does not resolve, today
            return failed(message, f"cannot resolve {message.to}: {exc}", permanent=False)
        body = message.text.encode()
        timestamp = int(time.time())
        headers = {
            **target.headers,
            "Content-Type": "application/json",
            "webhook-id": message.idempotency_key,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(self._key, message.idempotency_key, timestamp, body),
        }
        try:
            response = self._client.post(
                target.url, content=body, headers=headers, extensions=target.extensions
            )
        except httpx.HTTPError as exc:
            return failed(message, describe(exc), permanent=False)
        if response.is_success:
            return sent(message, message.idempotency_key)
        if response.is_redirect:
            return failed(
                message, f"HTTP {response.status_code}: redirects are not followed", permanent=True
            )
        return failure_for_status(message, response.status_code, response.text[:200])


def from_settings() -> WebhookChannel:
    return WebhookChannel(
        key=secret_key(settings.AMENDS_WEBHOOK_SECRET),
        client=pooled_client(timeout=settings.AMENDS_CHANNEL_TIMEOUT),
        allow_private=settings.AMENDS_WEBHOOK_ALLOW_PRIVATE,
    )
