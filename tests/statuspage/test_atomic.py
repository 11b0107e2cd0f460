"""A reader requesting pages in a loop while the site is published 20 times never gets a 404,
an error or a partial file: each request is served whole from one version."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from amends.outages.services import outage_post_update
from amends.statuspage import publish
from tests.statuspage.conftest import declare_open


def _read(url: str) -> tuple[int, bytes, int]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - 127.0.0.1
            return response.status, response.read(), int(response.headers["Content-Length"])
    except urllib.error.HTTPError as exc:
        return exc.code, b"", 0


def _whole(path: str, body: bytes) -> bool:
    if path.endswith(".json"):
        json.loads(body)
        return True
    return body.rstrip().endswith(b"</html>")


@pytest.mark.django_db(transaction=True)
def test_reader_never_sees_a_missing_or_partial_file(
    live_server: Any, site_root: Path, operator: object, settings: Any
) -> None:
    settings.AMENDS_STATUSPAGE_KEEP = 2  # prune as hard as allowed while reading
    outages = declare_open(3)
    publish.publish_site(trigger="test")
    paths = ["", f"{outages[0].reference}/", "zh/", "api/v2/summary.json", "history/"]
    problems: list[str] = []
    served = 0
    stop = threading.Event()

    def reader() -> None:
        nonlocal served
        while not stop.is_set():
            for path in paths:
                status, body, length = _read(f"{live_server.url}/status/{path}")
                if status != 200 or len(body) != length or not _whole(path, body):
                    problems.append(f"{path}: {status}, {len(body)} of {length} bytes")
                served += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(20):
            outage_post_update(actor="nmc", outage=outages[n % 3], message=f"Progress {n}.")
            record = publish.publish_site(trigger="test")
            assert record.status == "succeeded", record.error
    finally:
        stop.set()
        thread.join(timeout=30)
    assert problems == []
    assert served >= 40, f"only {served} reads: the reader must overlap the publishes"
    assert len(list((site_root / "versions").iterdir())) == 2
    assert b"Progress 19." in _read(f"{live_server.url}/status/")[1]  # the last one is served
