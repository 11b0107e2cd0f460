"""The public status page in Chromium: axe-core finds no WCAG 2.2 AA violation on the front
page, an outage page, the history, the Chinese front page and the lookup's answers (by
postcode, by place, a place with similar names, a malformed question), in light and dark
mode; the page makes no request elsewhere and the lookup works with JavaScript off, by
postcode and by place. Screenshots at phone and desktop widths go to test-artifacts/."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from amends.outages.services import outage_transition
from amends.statuspage import publish
from tests.e2e.test_console_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.factories import build_operator
from tests.statuspage.conftest import declare_open

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_VENDORED = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_CACHE = Path(tempfile.gettempdir()) / "amends-axe-core-4"


def axe_source() -> str:
    """axe-core from tests/e2e/vendor if vendored, else from npm once per machine."""
    if AXE_VENDORED.exists():
        return AXE_VENDORED.read_text(encoding="utf-8")
    script = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to fetch axe-core (or vendor tests/e2e/vendor/axe.min.js)"
        staging = Path(tempfile.mkdtemp(prefix="amends-axe-"))
        subprocess.run(
            [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund", "axe-core@4"],
            check=True,
            capture_output=True,
            timeout=300,
        )
        try:
            os.replace(staging, AXE_CACHE)
        except OSError:  # another run installed it first
            shutil.rmtree(staging, ignore_errors=True)
    return script.read_text(encoding="utf-8")


def violations(page: Page, axe: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=axe)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    assert len(result["passes"]) > 10  # axe really ran
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def check_pages(browser: Browser, base: str, paths: list[str], axe: str, scheme: str) -> None:
    # bypass_csp: the pages forbid every script by CSP; only the test injects axe.
    context = browser.new_context(bypass_csp=True, color_scheme=scheme)  # type: ignore[arg-type]
    page = context.new_page()
    for path in paths:
        page.goto(f"{base}{path}")
        assert violations(page, axe) == [], f"{path} ({scheme})"
    context.close()


def screenshots(browser: Browser, base: str, shots: dict[str, str], scheme: str) -> None:
    for width, label in ((390, "phone"), (1280, "desktop")):
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            color_scheme=scheme,  # type: ignore[arg-type]
        )
        page = context.new_page()
        for name, path in shots.items():
            page.goto(f"{base}{path}")
            suffix = "" if scheme == "light" else f"-{scheme}"
            page.screenshot(
                path=str(ARTIFACTS / f"status-{name}-{label}{suffix}.png"), full_page=True
            )
        context.close()


def no_script_lookup(browser: Browser, base: str) -> tuple[str, str, list[str]]:
    """Use the lookup form with JavaScript off, by postcode and then by place; return both
    answers and every URL requested."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{base}/status/")
    page.get_by_label("Postcode", exact=True).fill("2650")
    page.get_by_role("button", name="Check").click()
    page.get_by_role("heading", name="Outages in 2650").wait_for()
    by_postcode = page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "status-lookup-phone.png"), full_page=True)
    page.get_by_label("Postcode", exact=True).fill("")
    page.get_by_label("Or suburb or town").fill("  WAGGA wagga ")
    page.get_by_label("State").select_option("NSW")
    page.get_by_role("button", name="Check").click()
    page.get_by_role("heading", name="Outages in Wagga Wagga NSW").wait_for()
    by_place = page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "status-lookup-place-phone.png"), full_page=True)
    context.close()
    return by_postcode, by_place, requested


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_status_page_is_accessible_and_needs_no_script(
    live_server: Any, tmp_path: Path, settings: Any
) -> None:
    settings.AMENDS_STATUSPAGE_DIR = tmp_path / "statuspage"
    settings.AMENDS_STATUSPAGE_URL = f"{live_server.url}/status/"
    # All database work happens before Playwright starts its event loop in this thread.
    build_operator()
    sydney, wagga, melbourne = declare_open(3)
    outage_transition(actor="nmc", outage=melbourne, to="resolved", message="Cable replaced.")
    outage_transition(actor="nmc", outage=wagga, to="identified", message="A cable was cut.")
    assert publish.publish_site(trigger="test").status == "succeeded"
    ARTIFACTS.mkdir(exist_ok=True)
    axe = axe_source()
    base = live_server.url
    paths = [
        "/status/",
        f"/status/{sydney.reference}/",
        f"/status/{melbourne.reference}/",
        "/status/history/",
        "/status/zh/",
        f"/status/vi/{wagga.reference}/",
        "/status/lookup?postcode=2000",
        "/status/lookup?postcode=abc",
        "/status/lookup?locality=Wagga+Wagga&state=NSW",
        "/status/lookup?locality=Wagga+Wag&state=NSW",
        "/status/lookup?locality=melbourne&lang=vi",
        "/status/lookup?locality=%3Cb%3E&state=XX",
        "/status/nothing-here/",
    ]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for scheme in ("light", "dark"):
            check_pages(browser, base, paths, axe, scheme)
        shots = {"index": "/status/", "outage": f"/status/{sydney.reference}/", "zh": "/status/zh/"}
        screenshots(browser, base, shots, "light")
        screenshots(browser, base, {"index": "/status/"}, "dark")
        answer, by_place, requested = no_script_lookup(browser, base)
        browser.close()

    assert sydney.reference not in answer and wagga.reference in answer
    assert "Still affected here" in answer
    assert wagga.reference in by_place and "Postcodes: 2650" in by_place
    assert sydney.reference not in by_place
    assert requested and all(url.startswith(f"{base}/status/") for url in requested), requested
