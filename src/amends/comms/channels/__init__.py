"""Channel adapters: one package per provider, found through the registry by capability."""

from __future__ import annotations

from amends.comms.channels.base import (
    Channel,
    ChannelError,
    OutboundMessage,
    Receipt,
    SendResult,
)
from amends.comms.channels.registry import CAPABILITIES, channel_for, providers, reset

__all__ = [
    "CAPABILITIES",
    "Channel",
    "ChannelError",
    "OutboundMessage",
    "Receipt",
    "SendResult",
    "channel_for",
    "providers",
    "reset",
]
