"""Publishing renders the whole site into a new version and switches it in atomically."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from amends.outages.services import outage_transition
from amends.statuspage import publish
from amends.statuspage.models import Publication, PublicationStatus
from amends.statuspage.strings import STRINGS
from tests.statuspage.conftest import declare_open

pytestmark = pytest.mark.django_db

BUDGET = 14 * 1024


def site(root: Path) -> Path:
    return root / os.readlink(root / "current")


def test_publish_with_no_outages_says_all_is_well_in_every_language(site_root: Path) -> None:
    record = publish.publish_site(trigger="test")
    assert record.status == PublicationStatus.SUCCEEDED, record.error
    current = site(site_root)
    for language, prefix in (("en", ""), ("zh", "zh/"), ("vi", "vi/")):
        html = (current / prefix / "index.html").read_text()
        assert f'<html lang="{language}">' in html
        assert STRINGS[language]["all_ok"] in html
    assert record.file_count == len(publish.read_manifest(current)) >= 12
    assert record.size_bytes == sum(e[1] for e in publish.read_manifest(current).values())
    assert (current / "history/index.html").exists()
    assert not list((current).glob("lookup/*.json"))


def test_publish_with_ten_open_outages(site_root: Path, operator: object) -> None:
    outages = declare_open(10)
    record = publish.publish_site(trigger="test")
    assert record.status == PublicationStatus.SUCCEEDED, record.error
    current = site(site_root)
    index = (current / "index.html").read_text()
    assert "10 current outages" in index and "All services" not in index
    for outage in outages:
        assert f'href="{outage.reference}/"' in index
        page = (current / outage.reference / "index.html").read_text()
        assert "Update 3." in page and "Update 1." in page  # the whole timeline
        for language in ("zh", "vi"):
            translated = (current / language / outage.reference / "index.html").read_text()
            assert f'<html lang="{language}">' in translated
            assert f'<h1 lang="en">{outage.title}</h1>' in translated  # staff wrote it in English
    assert "当前有 10 项服务中断" in (current / "zh/index.html").read_text()
    assert sorted(p.stem for p in current.glob("lookup/*.json")) == ["2000", "2650", "3000"]


def test_front_page_fits_the_gzip_budget_with_ten_long_outages(
    site_root: Path, operator: object
) -> None:
    outages = declare_open(10, long_texts=True)
    assert all(len(o.cause_public) > 2000 for o in outages)
    publish.publish_site(trigger="test")
    current = site(site_root)
    for prefix in ("", "zh/", "vi/"):
        raw = (current / prefix / "index.html").read_bytes()
        for outage in outages:  # each outage is still told: title, cause, latest update, link
            assert outage.title.encode() in raw and outage.cause_public[:60].encode() in raw
            assert f'href="{outage.reference}/"'.encode() in raw and b"Update 3." in raw
        packed = len(gzip.compress(raw, compresslevel=6))
        assert packed <= BUDGET, f"{prefix}index.html is {packed} bytes gzipped"
        assert (current / prefix / "index.html.gz").stat().st_size <= packed


def test_failed_publish_keeps_the_previous_site_and_is_recorded(
    site_root: Path, operator: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish.publish_site(trigger="test")
    before = site(site_root)
    index_before = (before / "index.html").read_bytes()
    declare_open(1)

    def broken(snapshot: object) -> object:
        yield "index.html", b"<half"
        raise RuntimeError("disk full while writing history")

    monkeypatch.setattr(publish, "site_files", broken)
    record = publish.publish_site(trigger="test")
    assert record.status == PublicationStatus.FAILED
    assert "disk full" in record.error and record.finished_at is not None
    assert site(site_root) == before
    assert (before / "index.html").read_bytes() == index_before
    assert [p.name for p in (site_root / "versions").iterdir()] == [before.name]


def test_unchanged_files_are_linked_and_old_versions_pruned(
    site_root: Path, operator: object, settings: object
) -> None:
    settings.AMENDS_STATUSPAGE_KEEP = 3  # type: ignore[attr-defined]
    (outage,) = declare_open(1)
    first = publish.publish_site(trigger="test")
    page = site(site_root) / outage.reference / "index.html"
    inode = page.stat().st_ino
    for _ in range(4):
        record = publish.publish_site(trigger="test")
    assert record.reused_files > 0 and record.reused_files < record.file_count
    assert (site(site_root) / outage.reference / "index.html").stat().st_ino == inode
    assert len(list((site_root / "versions").iterdir())) == 3
    assert first.version not in os.listdir(site_root / "versions")
    outage_transition(actor="nmc", outage=outage, to="resolved", message="Fixed.")
    publish.publish_site(trigger="test")
    assert (site(site_root) / outage.reference / "index.html").stat().st_ino != inode


def test_unsafe_paths_are_refused(tmp_path: Path) -> None:
    for bad in ("../escape.html", "/etc/passwd", "a/../../b", ".manifest.json", "x.html.gz"):
        with pytest.raises(ValueError, match="refusing"):
            publish.write_version(tmp_path, [(bad, b"x")], keep=2)
    assert not (tmp_path / "current").exists()
    assert not list((tmp_path / "versions").iterdir())


def test_command_publishes_to_any_directory(
    site_root: Path, operator: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    declare_open(2)
    out = tmp_path / "nginx"
    call_command("statuspage", "publish", "--out", str(out))
    assert "Published" in capsys.readouterr().out
    assert (out / "current/index.html").exists() and not site_root.exists()
    record = Publication.objects.get()
    assert record.trigger == "command" and record.target == str(out.resolve())
    call_command("statuspage", "status")
    assert "succeeded" in capsys.readouterr().out


def test_command_fails_loudly_and_keeps_the_site(
    site_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management.base import CommandError

    publish.publish_site(trigger="test")

    def broken(snapshot: object) -> object:
        raise OSError("read-only file system")

    monkeypatch.setattr(publish, "site_files", broken)
    with pytest.raises(CommandError, match="read-only file system"):
        call_command("statuspage", "publish")
    assert (site(site_root) / "index.html").exists()


def test_inline_stylesheet_is_exactly_what_the_csp_allows(site_root: Path) -> None:
    publish.publish_site(trigger="test")
    html = (site(site_root) / "index.html").read_text()
    css = re.search(r"<style>(.*?)</style>", html, re.S)
    assert css is not None and "prefers-color-scheme:dark" in css.group(1)
    digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
    assert f"style-src &#39;sha256-{digest}&#39;" in html
    assert "<script" not in html and "@font-face" not in html and "http" not in css.group(1)


def test_settled_outages_are_read_from_their_digest(
    site_root: Path, operator: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from amends.outages.models import Outage
    from amends.statuspage import digest

    old, current = declare_open(2, long_texts=False)
    outage_transition(actor="nmc", outage=old, to="resolved", message="Fixed.")
    month_ago = timezone.now() - timedelta(days=30)
    Outage.objects.filter(pk=old.pk).update(resolved_at=month_ago, restored_at=month_ago)
    publish.publish_site(trigger="test")  # takes both digests
    aggregated: list[list[int]] = []
    real = digest._aggregate
    monkeypatch.setattr(digest, "_aggregate", lambda ids: aggregated.append(list(ids)) or real(ids))
    publish.publish_site(trigger="test")
    assert aggregated == [[current.pk]]  # the open one only
    history = (site(site_root) / "history/index.html").read_text()
    assert old.reference in history and "Sydney NSW" in history  # from its stored digest
