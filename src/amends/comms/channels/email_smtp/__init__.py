"""Email through an SMTP server (the operator's relay, or any smarthost), with Django's own
SMTP backend configured by the EMAIL_* settings.

One connection per batch: opening a TLS session and logging in per message would cost more
than sending it, and most relays cap messages per connection at about a hundred (hence the
batch size). SMTP has no idempotency key; the stable Message-ID is what lets a receiving
system recognise a message sent twice after a crash.
"""

from __future__ import annotations

import contextlib
import smtplib

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

from amends.comms.channels.base import ChannelError, OutboundMessage, SendResult
from amends.comms.channels.email_message import build_email, message_id
from amends.comms.channels.sending import failed, send_each, sent

__all__ = ["SmtpChannel", "from_settings"]

# Named explicitly: the site-wide EMAIL_BACKEND (password resets, tests' locmem) is not ours.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def _is_permanent(code: int) -> bool:
    """5xx replies are final (no such user, rejected); 4xx ask us to come back later."""
    return 500 <= code < 600


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


class SmtpChannel:
    capability = "email"
    name = "smtp"

    def __init__(self, *, rate_per_second: float = 20.0, batch_size: int = 100) -> None:
        self.rate_per_second = rate_per_second
        self.batch_size = batch_size

    def send_batch(self, messages: list[OutboundMessage]) -> list[SendResult]:
        connection = get_connection(SMTP_BACKEND)
        try:
            connection.open()
        except OSError as exc:
            where = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
            raise ChannelError(f"SMTP server {where} not usable: {exc}") from exc
        try:
            return send_each(messages, lambda message: self._send(connection, message))
        finally:
            with contextlib.suppress(OSError):
                connection.close()

    def _send(self, connection: BaseEmailBackend, message: OutboundMessage) -> SendResult:
        try:
            connection.send_messages([build_email(message, connection=connection)])
        except smtplib.SMTPRecipientsRefused as exc:
            replies = list(exc.recipients.values())
            error = "; ".join(_reply(code, text) for code, text in replies)
            permanent = all(_is_permanent(code) for code, _ in replies)
            return failed(message, f"recipient refused: {error}", permanent=permanent)
        except smtplib.SMTPSenderRefused as exc:
            # Our From address: every message of the batch would meet the same refusal.
            reply = _reply(exc.smtp_code, exc.smtp_error)
            raise ChannelError(f"sender {exc.sender} refused: {reply}") from exc
        except smtplib.SMTPResponseException as exc:
            reply = _reply(exc.smtp_code, exc.smtp_error)
            return failed(message, reply, permanent=_is_permanent(exc.smtp_code))
        except ValueError as exc:  # an address Django cannot encode
            return failed(message, f"invalid address: {exc}", permanent=True)
        except OSError as exc:  # disconnected, reset, timed out
            raise ChannelError(f"SMTP connection lost: {exc}") from exc
        return sent(message, message_id(message))


def from_settings() -> SmtpChannel:
    return SmtpChannel()
