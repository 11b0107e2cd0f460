"""The embeddable banner: one line of status in every language, framable by other sites
(the rest of the site is not), linking out of the frame to the status page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from amends.statuspage import publish
from tests.factories import Operator
from tests.statuspage.conftest import declare_open

pytestmark = pytest.mark.django_db


def test_banner_says_the_state_and_may_be_framed(
    site_root: Path, operator: Operator, client: Client
) -> None:
    assert publish.publish_site(trigger="test").status == "succeeded"
    calm = client.get("/status/banner.html")
    assert "All services are operating normally." in b"".join(calm.streaming_content).decode()

    declare_open(2, long_texts=False)
    assert publish.publish_site(trigger="test").status == "succeeded"
    banner = client.get("/status/banner.html")
    html = b"".join(banner.streaming_content).decode()
    chinese = b"".join(client.get("/status/zh/banner.html").streaming_content).decode()

    assert banner.status_code == 200 and "X-Frame-Options" not in banner
    assert "2 current outages" in html and "<script" not in html
    assert 'href="https://status.example.net/status/" target="_top"' in html
    assert (
        "当前有 2 项服务中断" in chinese
        and 'href="https://status.example.net/status/zh/"' in chinese
    )
    assert client.get("/status/")["X-Frame-Options"] == "DENY"
