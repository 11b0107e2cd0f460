from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Callable

import httpx
import pytest
from pytest_django import Settings

from amends.comms.channels import OutboundMessage
from amends.comms.channels.webhook import WebhookChannel, from_settings
from amends.comms.channels.webhook.guard import is_public
from amends.env import ConfigurationError
from tests.comms.servers import Answer, HttpServer, Request, Responder

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def verify(request: Request) -> bool:
    """The receiver's side of Standard Webhooks, written out independently."""
    webhook_id = request.headers["webhook-id"]
    timestamp = request.headers["webhook-timestamp"]
    signed = f"{webhook_id}.{timestamp}.".encode() + request.body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and f"v1,{expected}" in request.headers["webhook-signature"].split(" ")


def receiver(request: Request) -> Answer:
    return (204, None) if verify(request) else (401, {"error": "bad signature"})


def hook(url: str, n: int = 1) -> OutboundMessage:
    body = f'{{"type": "outage.updated", "outage": {n}}}'
    return OutboundMessage(n, f"n1-s{n}-webhook", "webhook", url, text=body)


@pytest.fixture
def private_ok(settings: Settings) -> Settings:
    settings.AMENDS_WEBHOOK_SECRET = SECRET
    settings.AMENDS_WEBHOOK_ALLOW_PRIVATE = True
    return settings


def test_signed_post_verifies_at_the_receiver(
    private_ok: Settings, http_server: Callable[[Responder], HttpServer]
) -> None:
    server = http_server(receiver)

    [result] = from_settings().send_batch([hook(f"{server.url}/hooks?team=7")])

    assert result.ok and result.provider_id == "n1-s1-webhook"
    [request] = server.requests
    assert request.path == "/hooks?team=7"
    assert request.headers["webhook-id"] == "n1-s1-webhook"
    assert request.headers["host"] == f"127.0.0.1:{server.port}"
    assert request.body == b'{"type": "outage.updated", "outage": 1}'


def test_receiver_rejecting_the_signature_sees_a_wrong_secret(
    private_ok: Settings, http_server: Callable[[Responder], HttpServer]
) -> None:
    server = http_server(receiver)
    private_ok.AMENDS_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"another key").decode()

    [result] = from_settings().send_batch([hook(server.url)])

    assert not result.ok and result.permanent and "401" in result.error


@pytest.mark.parametrize(
    ("status", "permanent"), [(410, True), (302, True), (503, False), (429, False)]
)
def test_receiver_failures_are_classified(
    private_ok: Settings,
    http_server: Callable[[Responder], HttpServer],
    status: int,
    permanent: bool,
) -> None:
    server = http_server(lambda request: (status, None))

    results = from_settings().send_batch([hook(server.url, 1), hook(server.url, 2)])

    assert [(r.ok, r.permanent) for r in results] == [(False, permanent)] * 2
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:192.168.1.1]/hook",
        "ftp://files.example/hook",
        "http://localhost/hook",
        "http://127.0.0.1:8000/hook",
    ],
)
def test_guard_refuses_private_targets_without_sending(url: str) -> None:
    attempts: list[httpx.Request] = []

    def no_network(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        return httpx.Response(200)

    channel = WebhookChannel(
        key=KEY, client=httpx.Client(transport=httpx.MockTransport(no_network))
    )

    [result] = channel.send_batch([hook(url)])

    assert not result.ok and result.permanent
    assert attempts == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("::ffff:10.1.2.3", False),
        ("0.0.0.0", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("secret", ["", "not-whsec", "whsec_***"])
def test_malformed_secret_is_refused_at_startup(settings: Settings, secret: str) -> None:
    settings.AMENDS_WEBHOOK_SECRET = secret

    with pytest.raises(ConfigurationError, match="AMENDS_WEBHOOK_SECRET"):
        from_settings()
