"""``client_ip``: one setting (``AMENDS_CLIENT_IP_HEADER``) names the client for the rate limits
of every public form; the variables it replaced stop the process instead of being ignored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from amends.core.http import client_ip
from tests.conftest import ROOT, amends_env

PROXY = "10.0.0.5"  # the connection's address when a proxy is in front


def _request(**headers: str) -> Any:
    return RequestFactory().get("/", REMOTE_ADDR=PROXY, headers=headers)


def test_without_the_setting_the_connection_counts_whatever_the_headers(settings: Any) -> None:
    settings.AMENDS_CLIENT_IP_HEADER = ""
    assert client_ip(_request(**{"X-Forwarded-For": "192.0.2.1"})) == PROXY


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("203.0.113.9, 198.51.100.2 , 192.0.2.1 ", "192.0.2.1"),  # the last: our proxy's
        ("2001:DB8:0:0::1", "2001:db8::1"),  # one spelling per address
        ("192.0.2.1, not-an-address", PROXY),
        ("", PROXY),
    ],
)
def test_behind_a_proxy_the_last_forwarded_entry_counts(
    settings: Any, forwarded: str, expected: str
) -> None:
    settings.AMENDS_CLIENT_IP_HEADER = "X-Forwarded-For"
    assert client_ip(_request(**{"X-Forwarded-For": forwarded})) == expected
    assert client_ip(_request()) == PROXY  # the header missing altogether


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "limit"),
    [
        ("/status/subscribe", "AMENDS_SUBSCRIBE_REQUESTS_PER_HOUR"),
        (reverse("claims:form"), "AMENDS_CLAIM_ATTEMPTS_PER_HOUR"),
    ],
)
def test_both_public_forms_limit_the_forwarded_client(
    client: Client, settings: Any, url: str, limit: str
) -> None:
    settings.AMENDS_CLIENT_IP_HEADER = "X-Real-IP"
    setattr(settings, limit, 1)

    def post(ip: str) -> int:
        return client.post(url, {}, REMOTE_ADDR=PROXY, headers={"X-Real-IP": ip}).status_code

    # An empty form is refused with its fields named (400), but it counts; the second from
    # the same client is over the limit, while another client behind the same proxy is not.
    assert [post("192.0.2.10"), post("192.0.2.11"), post("192.0.2.10")] == [400, 400, 429]


def _check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amends", "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=amends_env(AMENDS_DATA_DIR=str(tmp_path), **env),
        timeout=120,
    )


def test_a_malformed_header_setting_stops_with_its_name(tmp_path: Path) -> None:
    result = _check(tmp_path, AMENDS_CLIENT_IP_HEADER="X-Forwarded-For: 1.2.3.4")
    assert result.returncode == 2 and "is not a header name" in result.stderr
    assert "Traceback" not in result.stderr
    assert _check(tmp_path, AMENDS_CLIENT_IP_HEADER="X-Forwarded-For").returncode == 0
