"""A rendered message made ready for a channel: its idempotency key, Message-ID and, when the
recipient may stop such messages, the RFC 8058 one-click unsubscribe headers."""

from __future__ import annotations

from django.conf import settings

from amends.comms.channels.base import OutboundMessage
from amends.comms.templating import Rendered


def outbound_message(
    *,
    delivery_id: int,
    key: str,
    channel: str,
    to: str,
    rendered: Rendered,
    unsubscribe_url: str | None,
) -> OutboundMessage:
    """``unsubscribe_url``: the one-click link for an email's List-Unsubscribe headers (None:
    no such headers, e.g. an urgent message to a customer)."""
    headers = {}
    if channel == "email" and unsubscribe_url is not None:
        headers = {
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    domain = settings.SITE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return OutboundMessage(
        delivery_id=delivery_id,
        idempotency_key=key,
        capability=channel,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        headers=headers,
        message_id=f"<{key}@{domain or 'amends.invalid'}>",
    )
