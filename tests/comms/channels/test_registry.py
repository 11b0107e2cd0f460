from __future__ import annotations

import pytest
from django.test import override_settings
from pytest_django import Settings

from amends.comms.channels import CAPABILITIES, channel_for, providers, reset
from amends.env import ConfigurationError


def test_every_capability_defaults_to_the_outbox(settings: Settings) -> None:
    settings.AMENDS_CHANNELS = ""

    built = providers()

    assert set(built) == set(CAPABILITIES) == {"email", "sms", "push", "voice", "webhook", "social"}
    assert {(c, ch.name, ch.capability) for c, ch in built.items()} == {
        (c, "outbox", c) for c in CAPABILITIES
    }


def test_amends_channels_picks_providers(settings: Settings) -> None:
    settings.AMENDS_CHANNELS = "email=smtp, sms=http"
    settings.AMENDS_SMS_HTTP_URL = "http://127.0.0.1:9/sms"

    assert (channel_for("email").name, channel_for("email").capability) == ("smtp", "email")
    assert (channel_for("sms").name, channel_for("sms").capability) == ("http", "sms")
    assert channel_for("push").name == "outbox"


def test_instances_are_cached_until_reset_or_override(settings: Settings) -> None:
    settings.AMENDS_CHANNELS = ""
    first = channel_for("sms")
    assert channel_for("sms") is first

    reset()
    second = channel_for("sms")
    assert second is not first

    with override_settings(AMENDS_CHANNELS="email=smtp"):
        assert channel_for("email").name == "smtp"
    assert channel_for("email").name == "outbox"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("sms=carrier-pigeon", "sms can use outbox, twilio, http"),
        ("voice=twilio", "voice can use outbox"),
        ("fax=outbox", "'fax' is not a capability"),
        ("email", "'email' is not capability=value"),
    ],
)
def test_bad_amends_channels_names_the_variable(settings: Settings, raw: str, message: str) -> None:
    settings.AMENDS_CHANNELS = raw

    with pytest.raises(ConfigurationError, match="AMENDS_CHANNELS") as raised:
        providers()
    assert message in str(raised.value)


def test_selected_provider_without_its_settings_is_a_configuration_error(
    settings: Settings,
) -> None:
    settings.AMENDS_CHANNELS = "sms=twilio"
    settings.AMENDS_TWILIO_ACCOUNT_SID = ""

    with pytest.raises(ConfigurationError, match="TWILIO_ACCOUNT_SID"):
        channel_for("sms")


def test_rates_override_the_provider_default(settings: Settings) -> None:
    settings.AMENDS_CHANNELS = ""
    settings.AMENDS_CHANNEL_RATES = "sms=42.5"

    assert channel_for("sms").rate_per_second == 42.5
    assert channel_for("email").rate_per_second == 0.0  # the outbox: unlimited


@pytest.mark.parametrize("raw", ["sms=fast", "sms=0", "sms=-3"])
def test_bad_rates_are_refused(settings: Settings, raw: str) -> None:
    settings.AMENDS_CHANNEL_RATES = raw

    with pytest.raises(ConfigurationError, match="AMENDS_CHANNEL_RATES"):
        channel_for("sms")


def test_unknown_capability_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="fax"):
        channel_for("fax")
