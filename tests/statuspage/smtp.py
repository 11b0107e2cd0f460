"""Email to a real SMTP server on 127.0.0.1, for the subscription tests and their browser walk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from amends.comms.channels import registry
from tests.comms.servers import SmtpServer


def smtp_channel(settings: Any) -> Iterator[SmtpServer]:
    """Start an SMTP server and send email to it (``email=smtp``); stop it afterwards."""
    server = SmtpServer()
    controller = server.controller()
    controller.start()
    settings.AMENDS_CHANNELS = "email=smtp"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    registry.reset()
    yield server
    controller.stop()
    registry.reset()
