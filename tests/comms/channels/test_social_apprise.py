from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_django import Settings

from amends.comms.channels import OutboundMessage
from amends.comms.channels.social_apprise import from_settings
from amends.env import ConfigurationError
from tests.comms.servers import HttpServer, Responder


def post(to: str = "", n: int = 1) -> OutboundMessage:
    return OutboundMessage(n, f"n1-social-{n}", "social", to, subject="Outage", text="Fixed.")


@pytest.fixture
def accounts(settings: Settings, http_server: Callable[[Responder], HttpServer]) -> HttpServer:
    server = http_server(lambda request: (200, {"ok": True}))
    host = f"127.0.0.1:{server.port}"
    settings.AMENDS_SOCIAL_URLS = [f"json://{host}/mastodon", f"json://{host}/bluesky"]
    return server


def test_blank_to_posts_to_every_account(accounts: HttpServer) -> None:
    [result] = from_settings().send_batch([post()])

    assert result.ok
    assert sorted(r.path for r in accounts.requests) == ["/bluesky", "/mastodon"]
    assert {(r.json()["title"], r.json()["message"]) for r in accounts.requests} == {
        ("Outage", "Fixed.")
    }


def test_to_picks_one_configured_account(settings: Settings, accounts: HttpServer) -> None:
    [result] = from_settings().send_batch([post(settings.AMENDS_SOCIAL_URLS[1])])

    assert result.ok
    assert [r.path for r in accounts.requests] == ["/bluesky"]


def test_unconfigured_account_is_refused_without_posting(accounts: HttpServer) -> None:
    [result] = from_settings().send_batch([post(f"json://127.0.0.1:{accounts.port}/other")])

    assert not result.ok and result.permanent
    assert accounts.requests == []


def test_failed_post_is_temporary(accounts: HttpServer) -> None:
    accounts.responder = lambda request: (503, {"error": "down"})

    [result] = from_settings().send_batch([post()])

    assert not result.ok and not result.permanent


def test_bad_url_is_refused_without_echoing_it(settings: Settings) -> None:
    settings.AMENDS_SOCIAL_URLS = ["json://127.0.0.1/ok", "nosuchservice://secret-token"]

    with pytest.raises(ConfigurationError, match="entry 2") as raised:
        from_settings()
    assert "secret-token" not in str(raised.value)
