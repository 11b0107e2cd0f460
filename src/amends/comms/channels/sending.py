"""Results, and sending a batch unit by unit without losing what was already sent.

Most providers take one message per API call (or one group of identical messages per call).
When the provider itself fails part-way (unreachable, credentials refused), the messages already
sent must keep their "sent" results: raising would make the caller retry them and send them
twice. So a provider-wide failure is raised only while nothing has been attempted yet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from amends.comms.channels.base import ChannelError, OutboundMessage, SendResult

MAX_ERROR_LENGTH = 500


def sent(message: OutboundMessage, provider_id: str) -> SendResult:
    return SendResult(delivery_id=message.delivery_id, ok=True, provider_id=provider_id)


def failed(message: OutboundMessage, error: str, *, permanent: bool) -> SendResult:
    return SendResult(
        delivery_id=message.delivery_id,
        ok=False,
        error=error[:MAX_ERROR_LENGTH],
        permanent=permanent,
    )


def send_grouped(
    messages: Sequence[OutboundMessage],
    groups: Sequence[Sequence[int]],
    send_group: Callable[[list[OutboundMessage]], list[SendResult]],
) -> list[SendResult]:
    """Send each group (positions in ``messages``; together they cover every message once) with
    ``send_group``, which returns one result per message of its group or raises ChannelError
    when the provider is unusable. Results come back in the order of ``messages``."""
    results: dict[int, SendResult] = {}
    for done, group in enumerate(groups):
        try:
            group_results = send_group([messages[i] for i in group])
        except ChannelError as exc:
            if done == 0:
                raise
            for position in (i for rest in groups[done:] for i in rest):
                results[position] = failed(
                    messages[position], f"not sent: {exc.message}", permanent=False
                )
            break
        results.update(zip(group, group_results, strict=True))
    return [results[i] for i in range(len(messages))]


def send_each(
    messages: Sequence[OutboundMessage],
    send_one: Callable[[OutboundMessage], SendResult],
) -> list[SendResult]:
    """``send_grouped`` for providers that take one message per call."""
    return send_grouped(
        messages, [[i] for i in range(len(messages))], lambda group: [send_one(group[0])]
    )
