"""One RFC 5322 email from an OutboundMessage, for every email channel.

The Message-ID is stable across retries (the message's own, or one derived from its
idempotency key), so a message sent twice after a crash can be recognised as one.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend

from amends.comms.channels.base import OutboundMessage

# Characters allowed in the left part of a Message-ID (RFC 5322 dot-atom-text).
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")


def message_id(message: OutboundMessage) -> str:
    if message.message_id:
        bare = message.message_id.strip("<>")
        return f"<{bare}>"
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{_NOT_ATEXT.sub('-', message.idempotency_key)}@{domain}>"


def email_headers(message: OutboundMessage) -> dict[str, str]:
    """Message-ID plus the message's own headers (List-Unsubscribe, List-Unsubscribe-Post)."""
    return {"Message-ID": message_id(message), **message.headers}


def build_email(
    message: OutboundMessage, *, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """A multipart/alternative (text + HTML) email; Django adds the Date header."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers=email_headers(message),
        connection=connection,
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email
