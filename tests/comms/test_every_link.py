"""Every link in every message we ship answers: each shipped template × channel × language is
rendered for a real recipient the way the dispatcher renders it (``content.build_messages``,
subscribers' confirmations by ``confirmation_message``), every URL in its text, HTML and
headers is taken out, and each is fetched over HTTP from a running server.

Each must answer 200 once redirects are followed. The documented redirects: a status-page
directory without its trailing slash (``/status/OUT-…`` → ``/status/OUT-…/``, permanent).
The survey's score links record a score when fetched, as a click does; that is their job.
"""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from amends.comms import content, subscribers
from amends.comms.channels.base import OutboundMessage
from amends.comms.models import (
    URGENT_KINDS,
    Delivery,
    Notice,
    Subscriber,
    SubscriberStatus,
    SurveyResponse,
)
from amends.comms.subscriber_messages import confirmation_message
from amends.comms.templating.variables import OPEN_OUTAGE_KINDS
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_restore
from tests.factories import build_operator

pytestmark = pytest.mark.django_db(transaction=True)  # the live server reads what we wrote

SUBSCRIBER_KINDS = ("status_change", "subscription_confirm")
# A URL ends at the first character a URL cannot hold (a space, a quote, "。" in Chinese).
URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&*+,;=%]+")


def shipped() -> dict[tuple[str, str], set[str]]:
    """(kind, language) → its channels, from the files in the templates folder."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    root = files("amends.comms.templating") / "templates"
    for language in root.iterdir():
        for kind in language.iterdir():
            if kind.is_dir() and not kind.name.startswith("_"):
                for template in kind.iterdir():
                    found[(kind.name, language.name)].add(template.name.split(".")[0])
    return found


def urls_in(message: OutboundMessage) -> set[str]:
    text = "\n".join(
        [message.subject, message.text, html.unescape(message.html), *message.headers.values()]
    )
    return {url.rstrip(".,;:!?") for url in URL.findall(text)}


@pytest.fixture
def site(settings: Settings, live_server: LiveServer, tmp_path: Path) -> str:
    settings.SITE_URL = live_server.url
    settings.AMENDS_STATUSPAGE_URL = f"{live_server.url}/status/"
    settings.AMENDS_STATUSPAGE_DIR = tmp_path / "statuspage"
    settings.DATA_DIR = tmp_path
    settings.AMENDS_WEBHOOK_ALLOW_PRIVATE = True
    return str(live_server.url)


def customer_messages(
    outages: tuple[Outage, Outage], templates: dict[tuple[str, str], set[str]]
) -> dict[str, OutboundMessage]:
    """One message per customer template, for a customer in that language: about the open
    outage for the kinds sent while it is on, else about the restored one."""
    still_on, restored = outages
    speakers = dict(zip(("en", "zh", "vi"), Customer.objects.order_by("external_id"), strict=False))
    for language, customer in speakers.items():
        customer.language = language
        customer.save()
    notices: dict[str, Notice] = {}
    deliveries = []
    for (kind, language), channels in sorted(templates.items()):
        if kind in SUBSCRIBER_KINDS:
            continue
        if kind not in notices:
            notices[kind] = Notice.objects.create(
                outage=still_on if kind in OPEN_OUTAGE_KINDS else restored,
                kind=kind,
                audience="all_affected",
                urgent=kind in URGENT_KINDS,
            )
        deliveries += [
            Delivery.objects.create(
                notice=notices[kind],
                customer=speakers[language],
                channel=channel,
                address="someone",
                language=language,
                next_attempt_at=timezone.now(),
            )
            for channel in sorted(channels)
        ]
    prepared = content.build_messages(deliveries)
    assert not prepared.unrenderable and not prepared.deferred
    return {f"{d.notice.kind}/{d.channel}/{d.language}": message for d, message in prepared.ready}


def subscriber_messages(
    outage: Outage, templates: dict[tuple[str, str], set[str]]
) -> dict[str, OutboundMessage]:
    """Status subscribers' messages: the confirmation, and a change they are told about."""
    numbers = {"en": "1", "zh": "2", "vi": "3"}

    def address(channel: str, language: str) -> str:
        return {
            "email": f"sub-{language}@example.com",
            "sms": f"+6141234569{numbers[language]}",
            "webhook": f"http://127.0.0.1:9/{language}",
        }[channel]

    notice = Notice.objects.create(outage=outage, kind="update", audience="subscribers")
    messages: dict[str, OutboundMessage] = {}
    changes = []
    for (kind, language), channels in sorted(templates.items()):
        for channel in sorted(channels):
            if kind == "subscription_confirm":
                request = subscribers.SubscriptionRequest(
                    channel, address(channel, language), "postcode", "2000", language
                )
                subscribers.subscriber_request(request=request)
                pending = Subscriber.objects.get(
                    address=address(channel, language), status=SubscriberStatus.PENDING
                )
                messages[f"{kind}/{channel}/{language}"] = confirmation_message(pending)
                subscribers.subscriber_confirm(token=subscribers.confirm_token(pending))
    for (kind, language), channels in sorted(templates.items()):
        if kind == "status_change":
            changes += [
                Delivery.objects.create(
                    notice=notice,
                    subscriber=Subscriber.objects.get(channel=channel, language=language),
                    channel=channel,
                    address=address(channel, language),
                    language=language,
                    next_attempt_at=timezone.now(),
                )
                for channel in sorted(channels)
            ]
    prepared = content.build_messages(changes)
    assert not prepared.unrenderable
    messages.update(
        {f"status_change/{d.channel}/{d.language}": message for d, message in prepared.ready}
    )
    return messages


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - our live server
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def declare(title: str) -> Outage:
    return outage_declare(
        actor="nmc",
        title=title,
        cause_public="A fibre cut.",
        scope_items=[ScopeSpec(kind="state", state="NSW")],
        etr=timezone.now() + timedelta(hours=3),
    ).outage


def test_every_link_in_every_shipped_message_answers(site: str) -> None:
    build_operator()
    earlier = declare("Earlier exchange fault")
    outage_restore(actor="nmc", outage=earlier)
    outage = declare("Exchange fault")
    templates = shipped()
    expected = {
        f"{kind}/{channel}/{language}"
        for (kind, language), channels in templates.items()
        for channel in channels
    }
    messages = customer_messages((outage, earlier), templates) | subscriber_messages(
        outage, templates
    )
    assert set(messages) == expected  # every shipped template was rendered

    where: dict[str, set[str]] = defaultdict(set)
    for name, message in messages.items():
        for url in urls_in(message):
            where[url].add(name)
    elsewhere = {url: sorted(names) for url, names in where.items() if not url.startswith(site)}
    assert not elsewhere, "links to other sites cannot be checked here; add them deliberately"
    answers = {url: fetch(url) for url in sorted(where)}
    broken = {url: (status, sorted(where[url])) for url, status in answers.items() if status != 200}
    assert not broken
    # The links really are the personal ones, and the survey's scores were recorded.
    assert any("/u/" in url for url in where) and any("/survey/" in url for url in where)
    assert SurveyResponse.objects.count() == 3  # one per survey recipient, however many clicks
