"""What an HTTP provider's answer means for a message, shared by every HTTP adapter.

A 4xx says this request will never work as it is (invalid number, unsubscribed, bad payload):
a permanent failure. Timeouts, 429 and 5xx say "not now": a temporary one. 401 and 403 are
about our account, not the recipient: marking every recipient permanently failed because a
token expired would be wrong, so adapters that talk to one provider treat them as the provider
being unusable (ChannelError).
"""

from __future__ import annotations

import httpx

from amends.comms.channels.base import ChannelError, OutboundMessage, SendResult
from amends.comms.channels.sending import failed

ACCOUNT_REFUSED = frozenset({401, 403})
# 4xx statuses that mean "try again later", not "this will never work".
_NOT_NOW = frozenset({408, 409, 425, 429})


def is_permanent(status: int) -> bool:
    return 400 <= status < 500 and status not in _NOT_NOW


def failure_for_status(message: OutboundMessage, status: int, detail: str) -> SendResult:
    return failed(message, f"HTTP {status}: {detail}", permanent=is_permanent(status))


def is_unreachable(exc: httpx.HTTPError) -> bool:
    """No connection could be made: nothing was sent, and nothing else will be."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


def describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def account_refused(provider: str, status: int, detail: str) -> ChannelError:
    return ChannelError(f"{provider} refused our credentials (HTTP {status}): {detail}")


def pooled_client(*, timeout: float, headers: dict[str, str] | None = None) -> httpx.Client:
    """One client per adapter instance, kept for the life of the process, so that batches
    reuse open connections instead of paying a TLS handshake per message."""
    return httpx.Client(
        timeout=timeout,
        headers=headers,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
    )
