"""The console page from three angles (a publisher, a viewer, a stranger); publish now,
preview, and a failed publish shown to staff while the public keeps the previous site; the
subscriber counts, the messages to subscribers with their progress, and the social posts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_django import Settings

from amends.comms import subscriber_messages, subscribers
from amends.comms.channels import registry
from amends.comms.dispatch import run_notice
from amends.comms.models import Subscriber
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.outages.models import Update
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from amends.statuspage import publish, social
from amends.statuspage.models import Publication, PublicationStatus
from tests.comms.servers import HttpServer, Request
from tests.statuspage.conftest import declare_open

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456-x"  # noqa: S105


def _client(username: str, role: str) -> Client:
    user = staff_user_set(actor="test", username=username, role=role, password=PASSWORD)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [Role.COMMUNICATIONS, Role.COMMANDER, Role.ADMIN])
def test_publishers_publish_now(site_root: Path, operator: object, role: str) -> None:
    client = _client("pat", role)
    declare_open(1, long_texts=False)
    response = client.post("/status/console/publish/", follow=True)
    assert response.status_code == 200
    record = Publication.objects.get()
    assert record.trigger == "console" and record.requested_by == "pat"
    assert record.status == PublicationStatus.SUCCEEDED
    html = response.content.decode()
    assert f"Published {record.file_count} files" in html
    assert record.version in html and "Publish now" in html
    assert (site_root / "current/index.html").exists()


def test_viewer_sees_the_page_but_cannot_publish(site_root: Path) -> None:
    client = _client("vic", Role.VIEWER)
    page = client.get("/status/console/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nothing has been published yet." in html and "Publish now" not in html
    assert client.post("/status/console/publish/").status_code == 403
    assert not Publication.objects.exists()


def test_strangers_are_sent_to_sign_in(site_root: Path) -> None:
    client = Client()
    for url in ("/status/console/", "/status/console/preview/"):
        assert client.get(url)["Location"].startswith("/login/")
    assert client.post("/status/console/publish/")["Location"].startswith("/login/")
    assert not Publication.objects.exists()


def test_failed_publish_is_shown_and_the_public_keeps_the_old_site(
    site_root: Path, operator: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish.publish_site(trigger="test")
    client = _client("cara", Role.COMMANDER)

    def broken(snapshot: object) -> object:
        raise OSError("No space left on device")

    monkeypatch.setattr(publish, "site_files", broken)
    response = client.post("/status/console/publish/", follow=True)
    html = response.content.decode()
    assert "Publishing failed; the previous site is still served." in html
    assert "The last publish failed" in html and "No space left on device" in html
    assert Client().get("/status/").status_code == 200


def test_preview_renders_unpublished_changes_without_writing(
    site_root: Path, operator: object
) -> None:
    publish.publish_site(trigger="test")
    (outage,) = declare_open(1, long_texts=False)
    client = _client("vic", Role.VIEWER)
    preview = client.get("/status/console/preview/")
    assert preview.status_code == 200 and preview["Cache-Control"] == "no-store"
    assert outage.reference in preview.content.decode()
    assert client.get(f"/status/console/preview/{outage.reference}/").status_code == 200
    assert client.get(f"/status/console/preview/{outage.reference}").status_code == 302
    assert client.get("/status/console/preview/api/v2/summary.json").json()["incidents"]
    assert client.get("/status/console/preview/nothing/").status_code == 404
    public = b"".join(Client().get("/status/").streaming_content)  # type: ignore[attr-defined]
    assert outage.reference.encode() not in public
    assert Publication.objects.count() == 1


def _subscribe(channel: str, address: str, topic: str, value: str, *, confirm: bool) -> None:
    """Ask for a subscription as the form does, and confirm it by its link if ``confirm``."""
    request = subscribers.SubscriptionRequest(channel, address, topic, value, "en")
    subscribers.subscriber_request(request=request)
    pending = Subscriber.objects.get(channel=channel, address=address, topic=topic, value=value)
    if confirm:
        subscribers.subscriber_confirm(token=subscribers.confirm_token(pending))


@pytest.fixture
def social_accounts(settings: Settings, tmp_path: Path) -> Iterator[HttpServer]:
    """Two chat webhooks on 127.0.0.1: /ok takes posts, /down always answers 500."""

    def respond(request: Request) -> tuple[int, Any]:
        return (200, {"ok": True}) if request.path == "/ok" else (500, {"error": "down"})

    server = HttpServer(respond).start()
    settings.AMENDS_CHANNELS = "social=apprise"
    settings.AMENDS_SOCIAL_URLS = [f"json://127.0.0.1:{server.port}/{p}" for p in ("ok", "down")]
    settings.AMENDS_MAX_ATTEMPTS = 1
    settings.AMENDS_WEBHOOK_ALLOW_PRIVATE = True
    settings.DATA_DIR = tmp_path  # the outbox the subscriber messages go to
    registry.reset()
    yield server
    server.stop()
    registry.reset()


def _cell(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found, element_id
    return found.group(1)


def test_console_shows_subscribers_their_messages_and_social_posts(
    site_root: Path, operator: object, social_accounts: HttpServer
) -> None:
    _subscribe("email", "ann@example.com", "postcode", "2000", confirm=True)
    _subscribe("email", "ann@example.com", "state", "NSW", confirm=True)
    _subscribe("sms", "0412 345 678", "postcode", "2000", confirm=False)
    _subscribe("webhook", "http://127.0.0.1:9/hook", "product", "mobile", confirm=True)
    hook = Subscriber.objects.get(channel="webhook")
    subscribers.subscriber_unsubscribe(token=subscribers.current_unsubscribe_token(hook))
    outage = outage_declare(
        actor="commander",
        title="Sydney CBD outage",
        scope_items=[ScopeSpec(kind="postcode", postcode="2000")],
    ).outage
    update = Update.objects.get(outage=outage)
    notice = subscriber_messages.notify_subscribers(update=update, change="declare")
    assert notice is not None and notice.recipients == 1  # ann, once for both subscriptions
    assert run_notice(notice.pk) == "done"
    assert social.post_update(update.pk) == "done"  # /ok posted, /down failed for good

    html = _client("vic", Role.VIEWER).get("/status/console/").content.decode()

    counts = ("confirmed", "pending", "unsubscribed", "addresses")
    assert [_cell(html, f"subscribers-{name}") for name in counts] == ["2", "1", "1", "1"]
    rows = re.findall(r'<th scope="row">([^<]+)</th>((?:<td class="num">\d+</td>)+)', html)
    table = {label: re.findall(r"\d+", cells) for label, cells in rows}
    assert table["Email"] == ["2", "0", "0", "2"] and table["SMS"] == ["0", "1", "0", "1"]
    assert table["Webhook"] == ["0", "0", "1", "1"]
    assert table["Postcode"] == ["1", "1", "0", "2"] and table["Product"] == ["0", "0", "1", "1"]
    assert f'href="/notices/{notice.pk}/"' in html and f"#{notice.pk}</a>" in html
    assert f'href="/outages/{outage.reference}/"' in html
    assert 'value="1"' in html and "1 of 1" in html
    posts = re.findall(
        r"<code>json://[^/]+/(\w+)</code>.*?\"status\">(\w+)<.*?\"reason\">([^<]+)<", html, re.S
    )
    assert sorted(posts) == [
        ("down", "Failed", "apprise could not post to every account"),
        ("ok", "Posted", "accepted (apprise; no post id given)"),
    ]


def test_console_without_subscribers_or_accounts_says_so(site_root: Path) -> None:
    html = _client("vic", Role.VIEWER).get("/status/console/").content.decode()
    assert _cell(html, "subscribers-confirmed") == "0"
    assert "No messages to subscribers yet" in html
    assert "No social accounts are configured" in html
