"""``/status/`` serves the current version with cache headers and conditional GETs; the lookup
answers from the precomputed postcode files; bad input never shows a stack trace."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from django.test import Client

from amends.statuspage import publish, views
from amends.statuspage.models import Publication
from tests.statuspage.conftest import declare_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def outage_ref(site_root: Path, operator: object) -> str:
    (outage,) = declare_open(1, long_texts=False)
    publish.publish_site(trigger="test")
    return outage.reference


def test_index_has_cache_headers_and_answers_conditional_gets(
    client: Client, outage_ref: str
) -> None:
    response = client.get("/status/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Cache-Control"].startswith("public, max-age=30")
    assert response["Vary"] == "Accept-Encoding"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert int(response["Content-Length"]) == len(body) and b"1 current outage" in body
    etag, modified = response["ETag"], response["Last-Modified"]
    again = client.get("/status/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again["ETag"] == etag and not again.content
    assert client.get("/status/", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/status/", headers={"If-None-Match": '"other"'}).status_code == 200


def test_republishing_unchanged_files_keeps_their_etag(client: Client, outage_ref: str) -> None:
    page = f"/status/{outage_ref}/"
    etag = client.get(page)["ETag"]
    publish.publish_site(trigger="test")
    assert client.get(page, headers={"If-None-Match": etag}).status_code == 304


def test_gzip_twin_for_clients_that_accept_it(client: Client, outage_ref: str) -> None:
    plain = b"".join(client.get("/status/").streaming_content)  # type: ignore[attr-defined]
    response = client.get("/status/", headers={"Accept-Encoding": "gzip, br"})
    assert response["Content-Encoding"] == "gzip" and response["ETag"].endswith('-gz"')
    packed = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert gzip.decompress(packed) == plain and len(packed) < len(plain) / 2


def test_outage_pages_languages_and_machine_files(client: Client, outage_ref: str) -> None:
    assert client.get(f"/status/{outage_ref}/").status_code == 200
    redirect = client.get(f"/status/{outage_ref}")
    assert redirect.status_code == 301 and redirect["Location"] == f"/status/{outage_ref}/"
    zh = client.get(f"/status/zh/{outage_ref}/")
    assert b'<html lang="zh">' in b"".join(zh.streaming_content)  # type: ignore[attr-defined]
    assert client.get("/status/api/v2/summary.json")["Content-Type"] == "application/json"
    assert client.get("/status/feed.atom")["Content-Type"].startswith("application/atom+xml")
    assert client.get("/status/register.csv")["Content-Type"].startswith("text/csv")
    assert client.head("/status/").status_code == 200
    assert client.post("/status/").status_code == 405


@pytest.mark.parametrize(
    "path", ["nope/", "OUT-1999-0001/", ".manifest.json", "..%2f..%2fsettings.py", "lookup/x.json"]
)
def test_missing_files_get_the_friendly_404(client: Client, outage_ref: str, path: str) -> None:
    response = client.get(f"/status/{path}")
    assert response.status_code == 404
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert b"Page not found" in body and b"Traceback" not in body


def test_first_request_publishes_a_fresh_install(client: Client, site_root: Path) -> None:
    assert not site_root.exists()
    response = client.get("/status/")
    assert response.status_code == 200
    assert b"All services are operating normally." in b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert Publication.objects.get().trigger == "first-request"


def test_lookup_known_postcode(client: Client, outage_ref: str) -> None:
    response = client.get("/status/lookup", {"postcode": " 2000 "})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Outages in 2000" in html and outage_ref in html and "Sydney NSW" in html
    assert "Still affected here" in html
    assert response["Cache-Control"].startswith("public, max-age=")
    again = client.get(
        "/status/lookup", {"postcode": "2000"}, headers={"If-None-Match": response["ETag"]}
    )
    assert again.status_code == 304


def test_lookup_unknown_postcode_is_a_friendly_200(client: Client, outage_ref: str) -> None:
    response = client.get("/status/lookup?postcode=9999")
    assert response.status_code == 200
    assert "No known outages in 9999." in response.content.decode()


@pytest.mark.parametrize(
    "query", ["postcode=abc", "postcode=20000", "postcode=", "postcode=2%000", "postcode=<script>"]
)
def test_malformed_lookup_is_a_400_page(client: Client, outage_ref: str, query: str) -> None:
    response = client.get(f"/status/lookup?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a postcode of 4 digits" in html and 'aria-invalid="true"' in html
    assert "<script>" not in html


def test_lookup_without_a_query_shows_the_form_and_speaks_the_language(
    client: Client, outage_ref: str
) -> None:
    assert 'name="postcode"' in client.get("/status/lookup").content.decode()
    html = client.get("/status/lookup?postcode=2000&lang=vi").content.decode()
    assert '<html lang="vi">' in html and "Sự cố ở 2000" in html
    assert f'href="vi/{outage_ref}/"' in html
    assert '<html lang="en">' in client.get("/status/lookup?postcode=2000&lang=xx").content.decode()


def test_a_failing_first_publish_is_not_retried_on_every_request(
    client: Client, site_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(snapshot: object) -> object:
        raise OSError("permission denied")

    monkeypatch.setattr(publish, "site_files", broken)
    monkeypatch.setattr(views, "_first_publish_tried_at", None)
    for _ in range(3):
        response = client.get("/status/")
        assert response.status_code == 503 and response["Retry-After"] == "10"
        assert b"being prepared" in response.content
    assert Publication.objects.get().status == "failed"
