"""The console page from three angles (a publisher, a viewer, a stranger); publish now,
preview, and a failed publish shown to staff while the public keeps the previous site."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.statuspage import publish
from amends.statuspage.models import Publication, PublicationStatus
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
