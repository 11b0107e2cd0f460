"""Local provider servers for communications tests (127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User

from amends.comms.channels import registry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from tests.comms.servers import HttpServer, Responder, SmtpServer


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    """Channel instances are cached per process: each test sees its own settings."""
    registry.reset()
    yield
    registry.reset()


@pytest.fixture
def http_server() -> Iterator[Callable[[Responder], HttpServer]]:
    """Start local HTTP servers with the given responders; all stopped after the test."""
    started: list[HttpServer] = []

    def start(responder: Responder) -> HttpServer:
        server = HttpServer(responder).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    controller = server.controller()
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def cleo() -> User:
    """A communications lead: writes and sends notices."""
    return staff_user_set(
        actor="t", username="cleo", role=Role.COMMUNICATIONS, password="pw-123456-x"
    )
