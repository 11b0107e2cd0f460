"""Issue 12's acceptance: a partial restoration told through the console in Chromium, and what
each chosen customer then finds in their outbox, in order.

The commander declares over two areas (NSW and the Melbourne exchange) and gives the outage its
Chinese and Vietnamese words; the communications lead acknowledges, restores Melbourne and
tells those restored, moves the ETR for those still out, restores the rest, tells those restored
(Melbourne, already told, is left out: the preview says so), apologises, and the remediation
analyst's credit goes out. One customer per channel (email, SMS, push, voice), one per language
(en, zh, vi) and one whose SMS is held because their own mobile is down. For each of them the
messages handed to the outbox must be, in order, exactly the ones still true when they left:
nothing stale after restoration, no kind twice, every link answering 200, every word in the
customer's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect, sync_playwright

from amends import demo
from amends.comms.dispatch import run_notice
from amends.comms.models import Delivery, DeliveryStatus, Notice, NoticeStatus
from amends.core.roles import Role, sync_role_permissions
from amends.core.services import staff_user_set
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.statuspage.publish import publish_site
from tests.comms.test_every_link import fetch
from tests.e2e.test_console_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.factories import build_operator

PASSWORD = "pw-123456-x"  # noqa: S105
T = TypeVar("T")

# external id: (language, channel, contact details)
CHOSEN: dict[str, tuple[str, str, dict[str, str]]] = {
    # Their only channel is SMS and their mobile is down in the outage: held.
    "C1": ("en", "sms", {}),
    "C2": ("vi", "email", {"email": "c2@example.com"}),
    "C3": ("zh", "sms", {}),
    "C4": ("en", "voice", {"phone": "+61299990004"}),
    "C5": ("en", "push", {"push_token": "device-token-c5"}),
    "C6": ("en", "email", {"email": "c6@example.com"}),
}
MELBOURNE = {"C5", "C6"}  # restored first
WHAT_HAPPENED = "Roadworks cut a fibre cable; we repaired it and rerouted traffic meanwhile."
ENGLISH_WORDS = ("Sydney and Melbourne", "roadworks", "fibre cable", "rerouted")
URL = re.compile(r"https?://[^\s<>\"')]+")


def set_up_customers() -> None:
    for external_id, (language, channel, contact) in CHOSEN.items():
        Customer.objects.filter(external_id=external_id).update(
            language=language,
            channel_order=channel,
            email=contact.get("email", ""),
            phone=contact.get("phone", ""),
            push_token=contact.get("push_token", ""),
            quiet_hours_start=None,
            quiet_hours_end=None,
        )
    for username, role in [
        ("commander", Role.COMMANDER),
        ("comms", Role.COMMUNICATIONS),
        ("analyst", Role.REMEDIATION_ANALYST),
        ("approver", Role.APPROVER),
    ]:
        staff_user_set(actor="test", username=username, role=role, password=PASSWORD)


def dispatch_outage_notices() -> None:
    """What the task worker does: send every notice of the outage that is sending."""
    for notice in Notice.objects.filter(status=NoticeStatus.SENDING).order_by("pk"):
        run_notice(notice.pk, budget_seconds=60)


def credit_everyone(data_dir: Path) -> None:
    """The remediation analyst's program (the demo's): calculated, approved by a second
    person, paid by bill credit and confirmed; then the credit notice goes out."""
    outage = Outage.objects.get()
    program = demo._approved_program(outage, say=lambda _: None)
    demo._pay_everyone(program, data_dir=data_dir, say=lambda _: None)
    demo.tell_the_credits(program, say=lambda _: None)


def sent_sequence() -> dict[str, list[tuple[str, str]]]:
    """Each chosen customer's messages handed to a provider, in the order they were handed."""
    sequence: dict[str, list[tuple[str, str]]] = {c: [] for c in CHOSEN}
    handed = (
        Delivery.objects.filter(
            customer__external_id__in=CHOSEN,
            status__in=(DeliveryStatus.SENT, DeliveryStatus.DELIVERED),
        )
        .order_by("sent_at", "pk")
        .values_list("customer__external_id", "notice__kind", "channel")
    )
    for external_id, kind, channel in handed:
        sequence[external_id].append((kind, channel))
    return sequence


def superseded() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {c: [] for c in CHOSEN}
    for external_id, kind in (
        Delivery.objects.filter(customer__external_id__in=CHOSEN, status=DeliveryStatus.SUPERSEDED)
        .order_by("notice_id")
        .values_list("customer__external_id", "notice__kind")
    ):
        found[external_id].append(kind)
    return found


def outbox_texts(data_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """What each chosen customer's messages say, (kind, text), from the files the outbox wrote
    (each named after its idempotency key: n<notice>-c<customer id>-<channel>)."""
    ids = dict(Customer.objects.filter(external_id__in=CHOSEN).values_list("pk", "external_id"))
    kinds = dict(Notice.objects.values_list("pk", "kind"))
    texts: dict[str, list[tuple[str, str]]] = {c: [] for c in CHOSEN}
    for path in (data_dir / "outbox").rglob("n*-c*-*"):
        match = re.match(r"n(\d+)-c(\d+)-", path.name)
        if match and int(match.group(2)) in ids:
            kind = kinds[int(match.group(1))]
            texts[ids[int(match.group(2))]].append((kind, decoded(path)))
    return texts


def decoded(path: Path) -> str:
    if path.suffix != ".eml":
        return path.read_text("utf-8")
    from email import message_from_bytes, policy

    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    parts = [str(message["Subject"]), *(str(value) for value in message.values())]
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            parts.append(part.get_content())
    return "\n".join(parts)


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    if "/login/" in page.url:
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()


def compose(page: Page, base: str, reference: str, kind: str, audience: str) -> str:
    """Write a notice in the console; returns the notice page's URL (its preview shown)."""
    page.goto(f"{base}/notices/new/?outage={reference}")
    page.get_by_role("heading", name="New notice").wait_for()
    page.get_by_label("Outage").select_option(reference)
    page.get_by_label("Kind of notice").select_option(kind)
    page.get_by_label("Who receives it").select_option(audience)
    page.get_by_role("button", name="Save draft and preview").click()
    page.wait_for_url(re.compile(r".*/notices/\d+/$"))
    return page.url


def submit(page: Page) -> None:
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#notice-status")).to_have_text(re.compile("Sending|Sent"))


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_partial_restoration_tells_each_customer_the_truth_once(  # type: ignore[no-untyped-def]
    live_server, settings, tmp_path: Path
) -> None:
    settings.SITE_URL = live_server.url
    settings.AMENDS_STATUSPAGE_URL = f"{live_server.url}/status/"
    settings.AMENDS_STATUSPAGE_DIR = tmp_path / "statuspage"
    settings.DATA_DIR = tmp_path
    settings.AMENDS_APPROVAL_THRESHOLD = 100  # six customers: no second person needed
    settings.AMENDS_CUSTOMER_HOURLY_CAP = 20  # the whole story happens within one hour
    sync_role_permissions()
    build_operator()
    set_up_customers()
    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url

    with ThreadPoolExecutor(1) as pool, sync_playwright() as playwright:
        # Django's database work may not run in this thread once Playwright's loop runs.
        def db(function: Callable[..., T], *args: Any) -> T:
            return pool.submit(function, *args).result()

        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        # The commander declares over two areas and gives the outage its other languages.
        sign_in(page, f"{base}/outages/declare/", "commander")
        page.get_by_role("heading", name="Declare an outage").wait_for()
        page.wait_for_load_state("load")
        page.get_by_label("Title").fill("Sydney and Melbourne outage")
        page.get_by_label("Public summary").fill(
            "Internet and mobile are down in NSW and Melbourne. Our engineers are on it."
        )
        page.get_by_label("Cause (public)").fill("a fibre cable cut by roadworks")
        # Down since early this morning: long enough for every customer to be owed a credit.
        began = timezone.localtime(timezone.now() - timedelta(hours=5))
        page.get_by_label("Started at").fill(began.strftime("%Y-%m-%dT%H:%M"))
        for number, value in ((1, "R-NSW"), (2, "X3")):
            line = page.get_by_role("group", name=f"Scope line {number}")
            line.get_by_label("Kind").select_option("element")
            line.get_by_label("Value").fill(value)
        page.get_by_role("button", name="Declare outage").click()
        page.wait_for_url(re.compile(r".*/outages/OUT-\d{4}-0001/$"))
        reference = page.locator("#outage-reference").inner_text()
        outage_url = page.url
        for language, words in {
            "zh": ("悉尼和墨尔本服务中断", "光缆被道路施工挖断", "光缆已修复，服务已改道恢复。"),
            "vi": (
                "Sự cố tại Sydney và Melbourne",
                "cáp quang bị đứt do thi công đường",
                "Cáp quang đã được sửa và dịch vụ đã có lại.",
            ),
        }.items():
            form = page.locator(f"#translation-{language}")
            form.get_by_label("Title").fill(words[0])
            form.get_by_label("Cause (public)").fill(words[1])
            form.get_by_label("What happened (once restored)").fill(words[2])
            form.get_by_role("button", name=re.compile("Save")).click()
            page.wait_for_url(re.compile(r".*/outages/OUT-.*/$"))

        def as_user(username: str, url: str) -> None:
            sign_out(page)
            sign_in(page, url, username)

        def tell(kind: str, audience: str) -> None:
            """The communications lead writes the notice and sends it; the worker sends it."""
            as_user("comms", f"{base}/notices/")
            compose(page, base, reference, kind, audience)
            if kind == "acknowledge":
                expect(page.locator("#preview-held")).to_have_text("1")  # C1's mobile is down
            if kind == "restored" and "restore-all" in done:  # Melbourne was told already
                expect(page.locator("#preview-already-told")).to_contain_text("2")
                expect(page.locator("main")).to_contain_text(
                    "are left out, so nobody gets it twice"
                )
                page.screenshot(path=str(ARTIFACTS / "truth-second-restored.png"), full_page=True)
            submit(page)
            db(dispatch_outage_notices)

        done: set[str] = set()
        tell("acknowledge", "all_affected")
        # Melbourne is repaired; those restored are told.
        as_user("commander", outage_url)
        page.get_by_role("button", name=re.compile("Restore.*X3")).click()
        expect(page.get_by_role("status")).to_contain_text("services back")
        tell("restored", "restored")
        # The fix in NSW takes longer: a new ETR for those still out.
        as_user("commander", outage_url)
        later = timezone.localtime(timezone.now() + timedelta(hours=5))
        page.get_by_label("New ETR").fill(later.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Set ETR").click()
        expect(page.get_by_role("status")).to_be_visible()
        tell("etr_changed", "still_affected")
        # Everything is back; those restored are told, once; then the apology.
        as_user("commander", outage_url)
        page.get_by_role("button", name="Restore all").click()
        expect(page.locator("#impact-still")).to_have_text("0")
        page.get_by_label("What happened (required to resolve)").fill(WHAT_HAPPENED)
        page.get_by_role("button", name="Move to Resolved").click()
        expect(page.locator("#outage-status")).to_have_text("Resolved")
        done.add("restore-all")
        tell("restored", "restored")
        tell("apology", "all_affected")
        # A second apology would tell nobody new: its preview says all six were told.
        compose(page, base, reference, "apology", "all_affected")
        expect(page.locator("#preview-already-told")).to_contain_text("6")
        expect(page.locator("#preview-reachable")).to_have_text("0")
        browser.close()

        db(credit_everyone, tmp_path)
        db(dispatch_outage_notices)
        sequence = db(sent_sequence)
        stale = db(superseded)
        texts = db(outbox_texts, tmp_path)
        db(lambda: publish_site(trigger="test", actor="test"))

    everything_after_ack = ["restored", "apology", "credit_applied"]
    for external_id, (_, channel, _) in CHOSEN.items():
        kinds = [kind for kind, _ in sequence[external_id]]
        assert {c for _, c in sequence[external_id]} == {channel}, external_id
        if external_id == "C1":  # held while down, then out of date: never sent
            assert kinds == everything_after_ack, external_id
            assert stale["C1"] == ["acknowledge", "etr_changed"]
        elif external_id in MELBOURNE:  # restored before the ETR moved
            assert kinds == ["acknowledge", *everything_after_ack], external_id
        else:
            assert kinds == ["acknowledge", "etr_changed", *everything_after_ack], external_id
        assert len(kinds) == len(set(kinds)), f"{external_id} was told a kind twice"

    for external_id, messages in texts.items():
        assert len(messages) == len(sequence[external_id]), external_id
        language = CHOSEN[external_id][0]
        for kind, message in messages:
            if language != "en":  # the operator's words were given in theirs
                leaked = [w for w in ENGLISH_WORDS if w.lower() in message.lower()]
                assert not leaked, (external_id, leaked, message)
            if language == "zh":
                assert re.search(r"[\u4e00-\u9fff]", message), message
            if language == "vi":
                assert re.search("[ăâđêôơưạ-ỹ]", message), message
            assert "any phone" not in message, message
            if kind != "acknowledge":  # after restoration: past tense, never "are down"
                assert "Our engineers are on it" not in message, (kind, message)
            for url in {u.rstrip(".,;:!?") for u in URL.findall(message)}:
                assert fetch(url) == 200, (external_id, url)
    # Once it is over, the past tense of what happened, in the customer's language.
    assert WHAT_HAPPENED in dict(texts["C6"])["apology"]
    assert "Cáp quang đã được sửa" in dict(texts["C2"])["apology"]
    (zh_credit,) = [text for kind, text in texts["C3"] if kind == "credit_applied"]
    assert "补偿" in zh_credit or "退款" in zh_credit, zh_credit
    assert "/c/" in zh_credit, zh_credit
