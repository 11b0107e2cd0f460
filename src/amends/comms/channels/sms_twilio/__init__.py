"""SMS through Twilio's Messages API with Twilio's own SDK.

Twilio's Messages API takes no idempotency key, so a crash between Twilio's answer and our
record of it can send one SMS twice; the lease and the short time between the two keep that
window small. Delivery receipts arrive at ``{AMENDS_SITE_URL}/comms/receipts/twilio/`` and are
read by ``receipt_from_status_callback``.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from amends.comms.channels.base import ChannelError, OutboundMessage, Receipt, SendResult
from amends.comms.channels.http_errors import ACCOUNT_REFUSED, describe, is_permanent
from amends.comms.channels.sending import failed, send_each, sent
from amends.env import ConfigurationError

__all__ = ["TwilioChannel", "from_settings", "receipt_from_status_callback"]

RECEIPT_PATH = "/comms/receipts/twilio/"
# Errors about our sender, not the recipient: every message would fail the same way.
# 21212 invalid From, 21606 From not SMS-capable, 21659/21660 From not ours or not allowed.
_SENDER_ERRORS = frozenset({21212, 21606, 21659, 21660})
# Undelivered because the number itself will never take an SMS: blocked, unknown, landline.
_UNREACHABLE_NUMBER = frozenset({"30004", "30005", "30006"})


class TwilioChannel:
    capability = "sms"
    name = "twilio"

    def __init__(
        self,
        *,
        client: Client,
        sender: str,
        status_callback: str,
        rate_per_second: float = 10.0,
        batch_size: int = 100,
    ) -> None:
        self.rate_per_second = rate_per_second
        self.batch_size = batch_size
        self._client = client
        self._status_callback = status_callback
        # A Messaging Service picks the sender from its pool; otherwise From is the sender.
        key = "messaging_service_sid" if sender.startswith("MG") else "from_"
        self._sender = {key: sender}

    def send_batch(self, messages: list[OutboundMessage]) -> list[SendResult]:
        return send_each(messages, self._send)

    def _send(self, message: OutboundMessage) -> SendResult:
        try:
            created = self._client.messages.create(
                to=message.to,
                body=message.text,
                status_callback=self._status_callback,
                **self._sender,
            )
        except TwilioRestException as exc:
            return self._failure(message, exc)
        except requests.ConnectionError as exc:  # also connect timeouts
            raise ChannelError(f"Twilio unreachable: {describe(exc)}") from exc
        except requests.RequestException as exc:  # read timeout: it may or may not be sent
            return failed(message, describe(exc), permanent=False)
        return sent(message, str(created.sid))

    def _failure(self, message: OutboundMessage, exc: TwilioRestException) -> SendResult:
        # str(exc) paints the text with terminal colours; build our own.
        error = f"Twilio {exc.status} error {exc.code}: {exc.msg}"
        if exc.status in ACCOUNT_REFUSED or exc.code in _SENDER_ERRORS:
            raise ChannelError(error)
        return failed(message, error, permanent=is_permanent(exc.status))


def receipt_from_status_callback(
    url: str, params: Mapping[str, str], signature_header: str
) -> Receipt | None:
    """The Receipt in one of Twilio's status callbacks (``params`` is the POSTed form, ``url``
    the full URL Twilio called), or None for a status on the way (queued, sent, …).

    Raises PermissionDenied when the X-Twilio-Signature does not match, so a forged callback
    cannot mark messages delivered."""
    token = settings.AMENDS_TWILIO_AUTH_TOKEN
    form = {key: params[key] for key in params}  # a QueryDict's last value per key
    if not token or not RequestValidator(token).validate(url, form, signature_header):
        raise PermissionDenied("X-Twilio-Signature does not match this request")
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not sid or status not in ("delivered", "undelivered", "failed"):
        return None
    if status == "delivered":
        return Receipt(provider_id=sid, status="delivered")
    code = form.get("ErrorCode", "")
    final = "bounced" if code in _UNREACHABLE_NUMBER else "failed"
    return Receipt(provider_id=sid, status=final, error=f"Twilio error {code}")


def from_settings() -> TwilioChannel:
    sid, token = settings.AMENDS_TWILIO_ACCOUNT_SID, settings.AMENDS_TWILIO_AUTH_TOKEN
    if not (sid and token and settings.AMENDS_TWILIO_FROM):
        raise ConfigurationError(
            "sms=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM"
        )
    client = Client(
        sid, token, http_client=TwilioHttpClient(timeout=settings.AMENDS_CHANNEL_TIMEOUT)
    )
    # The SDK's own seam for its API host: tests point it at a local Twilio stand-in.
    client.api.base_url = settings.AMENDS_TWILIO_API_URL
    return TwilioChannel(
        client=client,
        sender=settings.AMENDS_TWILIO_FROM,
        status_callback=settings.SITE_URL + RECEIPT_PATH,
    )
