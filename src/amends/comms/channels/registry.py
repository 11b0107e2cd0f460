"""Which provider serves which capability, from AMENDS_CHANNELS.

Core code calls ``channel_for("sms")`` and never names a vendor. Every capability defaults to
the embedded outbox (files under DATA_DIR); AMENDS_CHANNELS overrides some of them, e.g.
``email=smtp,sms=twilio``. Providers by capability:

* email: ``outbox``, ``smtp`` (EMAIL_* settings), ``postmark`` (django-anymail)
* sms: ``outbox``, ``twilio``, ``http`` (generic JSON gateway, single or batch)
* webhook: ``outbox``, ``http`` (Standard Webhooks signatures, SSRF guard)
* social: ``outbox``, ``apprise``
* push, voice: ``outbox`` only for now (FCM and Twilio voice are still to come)

AMENDS_CHANNEL_RATES (``sms=30,email=50``) replaces the default messages-per-second of the
provider serving a capability. Provider packages are imported only when selected, so an
embedded install never loads a vendor SDK. Instances are built once per process (they hold
connection pools) and dropped by ``reset()`` or any settings override.
"""

from __future__ import annotations

import threading
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

from amends.comms.channels.base import Channel
from amends.env import ConfigurationError

__all__ = ["CAPABILITIES", "channel_for", "parse_pairs", "providers", "reset"]

# capability -> provider name -> package under amends.comms.channels
_PACKAGES: dict[str, dict[str, str]] = {
    "email": {"outbox": "outbox", "smtp": "email_smtp", "postmark": "email_anymail"},
    "sms": {"outbox": "outbox", "twilio": "sms_twilio", "http": "sms_http"},
    "push": {"outbox": "outbox"},
    "voice": {"outbox": "outbox"},
    "webhook": {"outbox": "outbox", "http": "webhook"},
    "social": {"outbox": "outbox", "apprise": "social_apprise"},
}
CAPABILITIES = tuple(_PACKAGES)

_lock = threading.Lock()
_channels: dict[str, Channel] = {}


def parse_pairs(setting: str, raw: str) -> dict[str, str]:
    """``"a=1,b=2"`` as a dict, each key a known capability."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        capability, sep, value = (text.strip() for text in item.partition("="))
        if not sep or not value:
            raise ConfigurationError(f"{setting}: {item!r} is not capability=value")
        if capability not in _PACKAGES:
            known = ", ".join(CAPABILITIES)
            raise ConfigurationError(f"{setting}: {capability!r} is not a capability ({known})")
        pairs[capability] = value
    return pairs


def _rate(capability: str) -> float | None:
    raw = parse_pairs("AMENDS_CHANNEL_RATES", settings.AMENDS_CHANNEL_RATES).get(capability)
    if raw is None:
        return None
    try:
        rate = float(raw)
    except ValueError:
        rate = 0.0
    if not rate > 0:
        raise ConfigurationError(f"AMENDS_CHANNEL_RATES: {capability}={raw} is not a rate > 0")
    return rate


def _build(capability: str) -> Channel:
    name = parse_pairs("AMENDS_CHANNELS", settings.AMENDS_CHANNELS).get(capability, "outbox")
    package = _PACKAGES[capability].get(name)
    if package is None:
        known = ", ".join(_PACKAGES[capability])
        raise ConfigurationError(
            f"AMENDS_CHANNELS: {capability}={name} is not a provider; {capability} can use {known}"
        )
    module: Any = import_module(f"{__package__}.{package}")
    channel: Channel = (
        module.from_settings(capability) if name == "outbox" else module.from_settings()
    )
    rate = _rate(capability)
    if rate is not None:
        channel.rate_per_second = rate
    return channel


def channel_for(capability: str) -> Channel:
    """The provider serving ``capability``, built on first use."""
    if capability not in _PACKAGES:
        raise ValueError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    with _lock:
        if capability not in _channels:
            _channels[capability] = _build(capability)
        return _channels[capability]


def providers() -> dict[str, Channel]:
    """Every capability's provider; building them all checks the whole configuration."""
    return {capability: channel_for(capability) for capability in CAPABILITIES}


def reset() -> None:
    """Forget the built providers, so the next call reads the settings again."""
    with _lock:
        _channels.clear()


def _on_setting_changed(**kwargs: object) -> None:
    reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="amends.comms.channels.registry")
