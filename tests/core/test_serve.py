"""`amends serve` runs a real web server and a real task worker, and Ctrl-C stops both."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from amends.core.management.commands.serve import link_to
from tests.conftest import ROOT, amends_env, child_database_url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _wait_for(url: str, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _shell(env: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "amends", "shell", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_serve_runs_web_and_worker_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    env = amends_env(AMENDS_DATA_DIR=str(tmp_path))
    server = subprocess.Popen(
        [sys.executable, "-m", "amends", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = _wait_for(f"http://127.0.0.1:{port}/login/", time.monotonic() + 60)
        assert "Sign in" in page
        css = _wait_for(f"http://127.0.0.1:{port}/static/core/console.css", time.monotonic() + 5)
        assert "prefers-color-scheme" in css
        children = _children(server.pid)
        assert len(children) == 2

        task_id = _shell(
            env, "from amends.core.tasks import verify_audit_chain as t; print(t.enqueue().id)"
        )
        deadline = time.monotonic() + 60
        status = ""
        while status != "SUCCESSFUL" and time.monotonic() < deadline:
            time.sleep(0.5)
            status = _shell(
                env,
                "from amends.core.tasks import verify_audit_chain as t; "
                f"print(t.get_result('{task_id}').status)",
            )
        assert status == "SUCCESSFUL"
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert "Amends stopped." in output
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}"), f"child {pid} still running"


@pytest.mark.django_db(transaction=True)
def test_the_links_a_demo_sends_lead_to_the_port_it_serves_on(tmp_path: Path) -> None:
    """AMENDS_SITE_URL unset: `amends demo --port N` must not send customers to :8000."""
    port = _free_port()
    env = amends_env(AMENDS_DATA_DIR=str(tmp_path), DATABASE_URL=child_database_url())
    env.pop("AMENDS_SITE_URL", None)
    env.pop("AMENDS_STATUSPAGE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "amends", "demo", "--customers", "60", "--port", str(port)]
        + ["--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    sms = [path.read_text() for path in (tmp_path / "outbox" / "sms").glob("*.txt")]
    links = {url for text in sms for url in re.findall(r"https?://[^\s]+", text)}
    assert links and all(url.startswith(f"http://127.0.0.1:{port}/") for url in links), links
    assert f"http://127.0.0.1:{port}/status/" in "".join(sms)  # AMENDS_STATUSPAGE_URL follows


def test_an_explicit_site_url_wins_over_the_port(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SITE_URL = "https://console.example.net"
    monkeypatch.setenv("AMENDS_SITE_URL", settings.SITE_URL)
    link_to(host="0.0.0.0", port=8105)  # noqa: S104
    assert settings.SITE_URL == "https://console.example.net"
