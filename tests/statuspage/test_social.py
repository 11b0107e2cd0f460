"""Social posts: each public update goes to every configured account (apprise, to real HTTP
servers on 127.0.0.1: a JSON webhook and a Mastodon API stand-in), fitted to each platform's
length with the link to the outage's page, once per update and account however often the
task runs, retried on temporary failure, and listed on the outage's staff page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from amends.comms.channels import registry
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.outages.models import Outage, SocialPost, SocialPostStatus, Update
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_post_update, outage_transition
from amends.statuspage import social
from amends.statuspage.checks import check_social_accounts
from amends.statuspage.tasks import post_social_task
from tests.comms.servers import HttpServer, Request
from tests.factories import Operator

pytestmark = pytest.mark.django_db

PAGE = "https://status.example.net/status/"


def mastodon_or_chat(request: Request) -> tuple[int, Any]:
    if request.path == "/api/v1/statuses":
        return 200, {"id": "109315796435904505", "url": "https://social.example/@telco/1"}
    return 200, {"ok": True}


@pytest.fixture
def accounts(settings: Settings, tmp_path: Path) -> Iterator[HttpServer]:
    """A chat webhook (/chat) and a Mastodon API (/api/v1/statuses) on one local server."""
    server = HttpServer(mastodon_or_chat).start()
    settings.AMENDS_STATUSPAGE_URL = PAGE
    settings.AMENDS_CHANNELS = "social=apprise"
    settings.AMENDS_SOCIAL_URLS = [
        f"json://127.0.0.1:{server.port}/chat",
        f"mastodon://secret-token@127.0.0.1:{server.port}",
    ]
    settings.DATA_DIR = tmp_path
    registry.reset()
    yield server
    server.stop()
    registry.reset()


@pytest.fixture
def outage(operator: Operator) -> Outage:
    return outage_declare(
        actor="commander",
        title="Sydney CBD outage",
        scope_items=[ScopeSpec(kind="postcode", postcode="2000")],
    ).outage


def latest(outage: Outage) -> Update:
    found = outage.updates.order_by("-id").first()
    assert found is not None
    return found


def posted_texts(server: HttpServer) -> dict[str, str]:
    texts = {}
    for request in server.requests:
        body = request.json()
        texts[request.path] = body.get("status") or body.get("message")
    return texts


def test_each_update_is_posted_once_to_every_account(accounts: HttpServer, outage: Outage) -> None:
    update = outage_post_update(actor="commander", outage=outage, message="Crews are on site.")

    assert social.post_update(update.pk) == "done"
    assert social.post_update(update.pk) == "done"  # again: nothing more is posted
    assert post_social_task.call(update.pk) == "done"

    texts = posted_texts(accounts)
    assert sorted(texts) == ["/api/v1/statuses", "/chat"]
    link = f"{PAGE}{outage.reference}/"
    for text in texts.values():
        assert "Crews are on site." in text and text.endswith(link)
    posts = list(SocialPost.objects.filter(update=update))
    assert {p.status for p in posts} == {SocialPostStatus.POSTED}
    assert all(p.result and p.posted_at for p in posts)
    assert all("secret-token" not in p.account for p in posts)
    assert AuditEntry.objects.filter(action="statuspage.social_post").count() == 2


def test_a_temporary_failure_is_retried_without_posting_twice_elsewhere(
    accounts: HttpServer, outage: Outage
) -> None:
    down = {"chat": True}

    def respond(request: Request) -> tuple[int, Any]:
        if request.path == "/chat" and down["chat"]:
            return 503, {"error": "busy"}
        return mastodon_or_chat(request)

    accounts.responder = respond
    update = latest(outage)

    assert social.post_update(update.pk) == "later"
    chat = SocialPost.objects.get(update=update, account__startswith="json://")
    assert (chat.status, chat.attempts) == (SocialPostStatus.PENDING, 1)
    assert social.retry_delay(update.pk) > 0
    down["chat"] = False
    assert social.post_update(update.pk) == "done"

    paths = [r.path for r in accounts.requests]
    assert paths.count("/api/v1/statuses") == 1  # the account that worked is not posted again
    assert paths.count("/chat") == 2  # the failed try and the retry
    assert set(SocialPost.objects.values_list("status", flat=True)) == {SocialPostStatus.POSTED}


def test_a_post_that_keeps_failing_gives_up(
    accounts: HttpServer, outage: Outage, settings: Settings
) -> None:
    settings.AMENDS_MAX_ATTEMPTS = 2
    accounts.responder = lambda request: (500, {"error": "down"})
    update = latest(outage)

    assert social.post_update(update.pk) == "later"
    assert social.post_update(update.pk) == "done"

    assert set(SocialPost.objects.values_list("status", flat=True)) == {SocialPostStatus.FAILED}
    assert social.post_update(update.pk) == "done"
    assert len(accounts.requests) == 4  # two accounts, two tries each, then nothing


@pytest.mark.parametrize(
    ("url", "limit"),
    [
        ("x://consumer-key/consumer-secret/access-key/access-secret", 280),
        ("twitter://consumer-key/consumer-secret/access-key/access-secret", 280),
        ("mastodons://token@mastodon.example", 500),
        ("json://127.0.0.1/hook", social.MAX_POST),
    ],
)
def test_a_post_fits_the_platform_and_always_keeps_the_link(
    outage: Outage, settings: Settings, url: str, limit: int
) -> None:
    settings.AMENDS_STATUSPAGE_URL = PAGE
    [account] = social.configured_accounts([url])
    update = outage_post_update(actor="commander", outage=outage, message="Splicing. " * 400)

    text = social.post_text(update, outage, limit=account.limit)

    assert account.limit == limit
    assert len(text) <= limit and text.endswith(f"{PAGE}{outage.reference}/")
    assert text.startswith("Sydney CBD outage (Investigating)") and "…" in text


def test_bluesky_posts_fit_300_characters(outage: Outage, settings: Settings) -> None:
    settings.AMENDS_STATUSPAGE_URL = PAGE
    update = outage_post_update(actor="commander", outage=outage, message="Word " * 200)

    text = social.post_text(update, outage, limit=social.PLATFORM_LIMITS["bluesky"])

    assert len(text) <= 300 and text.endswith(f"{outage.reference}/")


def test_internal_updates_are_never_posted(accounts: HttpServer, outage: Outage) -> None:
    internal = outage_post_update(
        actor="commander", outage=outage, message="Vendor ticket 4471", visibility="internal"
    )

    assert social.post_update(internal.pk) == "done"
    assert accounts.requests == [] and not SocialPost.objects.exists()


def test_public_changes_queue_the_announcements_and_closing_does_not(
    accounts: HttpServer, outage: Outage, django_capture_on_commit_callbacks: Any
) -> None:
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        update = outage_post_update(actor="commander", outage=outage, message="Progress.")
    queued = sorted(
        (task.task_path.rsplit(".", 1)[-1], task.args_kwargs["args"][0])
        for task in DBTaskResult.objects.exclude(task_path__endswith="publish_site_task")
    )
    assert queued == [("notify_subscribers_task", update.pk), ("post_social_task", update.pk)]

    outage_transition(actor="commander", outage=outage, to="resolved")
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        outage_transition(actor="commander", outage=outage, to="closed")
    assert not DBTaskResult.objects.exclude(task_path__endswith="publish_site_task").exists()


def test_without_apprise_the_posts_land_in_the_outbox_without_credentials(
    accounts: HttpServer, outage: Outage, settings: Settings, tmp_path: Path
) -> None:
    settings.AMENDS_CHANNELS = ""
    registry.reset()
    update = latest(outage)

    assert social.post_update(update.pk) == "done"

    files = sorted((tmp_path / "outbox" / "social").iterdir())
    assert len(files) == 2 and accounts.requests == []
    text = "".join(f.read_text() for f in files)
    assert "secret-token" not in text and f"{outage.reference}/" in text


def test_the_outage_page_lists_its_posts(accounts: HttpServer, outage: Outage) -> None:
    social.post_update(latest(outage).pk)
    staff_user_set(actor="t", username="vic", role=Role.VIEWER, password="pw-123456-x")
    client = Client()
    client.login(username="vic", password="pw-123456-x")

    page = client.get(f"/outages/{outage.reference}/").content.decode()

    assert "Social posts" in page and "mastodon://" in page and "secret-token" not in page


def test_social_settings_are_checked(settings: Settings) -> None:
    settings.AMENDS_SOCIAL_URLS = ["mastodon://token@social.example"]
    settings.AMENDS_CHANNELS = ""
    assert [m.id for m in check_social_accounts()] == ["statuspage.W001"]
    settings.AMENDS_CHANNELS = "social=apprise"
    assert check_social_accounts() == []
    settings.AMENDS_SOCIAL_URLS = ["nosuchservice://secret-token"]
    [error] = check_social_accounts()
    assert error.id == "statuspage.E003" and "secret-token" not in error.msg
