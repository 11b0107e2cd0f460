"""Status-page subscriptions: the form (CSRF, validation, rate limits, never telling who is
subscribed), double opt-in by link, code and SMS reply, one-click unsubscribe, and delivery of
every public change through the dispatch pipeline to exactly the subscribers it concerns."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test import Client
from django.utils import timezone
from pytest_django import Settings

from amends.comms import subscriber_messages, subscribers, templating
from amends.comms.channels import registry
from amends.comms.dispatch import run_notice
from amends.comms.inbound import receive_sms
from amends.comms.models import (
    Audience,
    Delivery,
    DeliveryStatus,
    Notice,
    NoticeKind,
    NoticeStatus,
    Subscriber,
    SubscriberStatus,
)
from amends.comms.services import notice_create, notice_submit
from amends.comms.templating import sms_info
from amends.core.errors import AmendsError
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.outages.models import Outage, Update
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_post_update, outage_transition
from amends.statuspage.tasks import notify_subscribers_task
from tests.comms.servers import SmtpServer
from tests.factories import Operator
from tests.statuspage.smtp import smtp_channel

pytestmark = pytest.mark.django_db

SITE = "https://console.example.net"


@pytest.fixture(autouse=True)
def _site(settings: Settings, tmp_path: Path) -> Iterator[None]:
    settings.SITE_URL = SITE
    settings.AMENDS_STATUSPAGE_URL = "https://status.example.net/status/"
    settings.AMENDS_STATUSPAGE_DIR = tmp_path / "statuspage"
    settings.DATA_DIR = tmp_path
    settings.AMENDS_SUBSCRIBE_REQUESTS_PER_HOUR = 100
    registry.reset()
    yield
    registry.reset()


@pytest.fixture
def smtp(settings: Settings) -> Iterator[SmtpServer]:
    yield from smtp_channel(settings)


def form(**values: str) -> dict[str, str]:
    data = {
        "channel": "email",
        "email": "",
        "phone": "",
        "webhook": "",
        "topic": "postcode",
        "postcode": "",
        "state": "",
        "product": "",
        "language": "en",
    }
    data.update(values)
    return data


def subscribe(client: Client, captured: Callable[..., Any], **values: str) -> Any:
    """POST the form and run what it queued after commit (the confirmation task, enqueued)."""
    with captured(execute=True):
        return client.post("/status/subscribe", form(**values))


def confirmed(
    channel: str, address: str, topic: str, value: str, language: str = "en"
) -> Subscriber:
    """A subscription asked for and confirmed by its link, as a person would."""
    request = subscribers.SubscriptionRequest(channel, address, topic, value, language)
    subscribers.subscriber_request(request=request)
    pending = Subscriber.objects.get(channel=channel, address=address, topic=topic, value=value)
    return subscribers.subscriber_confirm(token=subscribers.confirm_token(pending))


def links(text: str) -> list[str]:
    return re.findall(r"https://console\.example\.net/status/[a-z]+/[A-Za-z0-9_-]+", text)


# --- the form ----------------------------------------------------------------------------


def test_form_works_without_javascript_and_prefills_the_postcode(client: Client) -> None:
    page = client.get("/status/subscribe?postcode=2650&lang=vi")

    html = page.content.decode()
    assert page.status_code == 200 and "<script" not in html
    assert 'name="csrfmiddlewaretoken"' in html and 'lang="vi"' in html
    assert 'value="2650"' in html
    assert re.search(r'value="postcode" checked', html)


def test_email_subscription_is_confirmed_by_the_link_in_a_real_email(
    client: Client, smtp: SmtpServer, django_capture_on_commit_callbacks: Any
) -> None:
    page = subscribe(
        client, django_capture_on_commit_callbacks, email="Ann@Example.COM", postcode="2000"
    )

    assert page.status_code == 200 and "Check your messages" in page.content.decode()
    subscriber = Subscriber.objects.get()
    assert (subscriber.address, subscriber.status) == ("Ann@example.com", SubscriberStatus.PENDING)
    assert subscriber_messages.send_confirmation(subscriber.pk).ok  # what the task does
    [(recipients, email)] = smtp.received
    assert recipients == ["Ann@example.com"]
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = email.get_body(("plain",)).get_content()
    confirm, unsubscribe = links(text)
    assert "/status/confirm/" in confirm and "/status/unsubscribe/" in unsubscribe
    assert email["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert "postcode 2000" in text

    path = confirm.removeprefix(SITE)
    shown = client.get(path)  # a link scanner opening it changes nothing
    assert shown.status_code == 200 and "Confirm" in shown.content.decode()
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    done = client.post(path)
    assert done.status_code == 200 and "You are subscribed" in done.content.decode()
    assert Subscriber.objects.get().status == SubscriberStatus.CONFIRMED
    actions = list(AuditEntry.objects.values_list("action", flat=True).order_by("id"))
    assert actions == ["comms.subscriber_request", "comms.subscriber_confirm"]


def test_tokens_are_only_stored_hashed(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    subscribe(client, django_capture_on_commit_callbacks, email="bo@example.com", postcode="2000")
    subscriber = Subscriber.objects.get()
    tokens = [
        subscribers.confirm_token(subscriber),
        subscribers.current_unsubscribe_token(subscriber),
        subscribers.sms_code(subscriber),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM comms_subscriber")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert all(token not in stored for token in tokens)
    assert subscriber.confirm_hash == subscribers.token_hash(tokens[0])


def test_the_answer_never_tells_whether_an_address_is_subscribed(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    confirmed("email", "known@example.com", "postcode", "2000")

    with django_capture_on_commit_callbacks(execute=False) as queued:
        known = client.post("/status/subscribe", form(email="known@example.com", postcode="2000"))
    unknown = client.post("/status/subscribe", form(email="new@example.com", postcode="2000"))

    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())
    assert queued == []  # nothing sent to the address that is already confirmed
    assert Subscriber.objects.get(address="known@example.com").status == SubscriberStatus.CONFIRMED


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"email": "not-an-address", "postcode": "2000"}, "email"),
        ({"email": "", "postcode": "2000"}, "email"),
        ({"channel": "sms", "phone": "0299998888", "postcode": "2000"}, "phone"),  # a landline
        ({"channel": "sms", "phone": "12", "postcode": "2000"}, "phone"),
        ({"email": "a@example.com", "postcode": "20000"}, "postcode"),
        ({"email": "a@example.com", "topic": "state", "state": "XX"}, "state"),
        ({"email": "a@example.com", "topic": "product", "product": "gas"}, "product"),
        ({"channel": "pigeon", "postcode": "2000"}, "channel"),
        (
            {"channel": "webhook", "webhook": "http://127.0.0.1:8000/hook", "postcode": "2000"},
            "webhook",
        ),
        ({"channel": "webhook", "webhook": "ftp://example.com/x", "postcode": "2000"}, "webhook"),
    ],
)
def test_bad_input_shows_the_form_again_naming_the_field_and_stores_nothing(
    client: Client, settings: Settings, values: dict[str, str], field: str
) -> None:
    settings.AMENDS_WEBHOOK_ALLOW_PRIVATE = False

    page = client.post("/status/subscribe", form(**values))

    html = page.content.decode()
    assert page.status_code == 400
    assert f'id="{field}-error"' in html and "Please correct the fields" in html
    if field not in ("channel",):
        assert f'id="{field}"' in html and 'aria-invalid="true"' in html
    assert Subscriber.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_every_wrong_field_is_named_at_once_in_the_pages_language(client: Client) -> None:
    page = client.post(
        "/status/subscribe?lang=zh", form(email="nope", postcode="abc", language="zh")
    )

    html = page.content.decode()
    assert 'id="email-error"' in html and 'id="postcode-error"' in html
    assert "请输入电子邮件地址" in html and "请输入 4 位数字的邮编" in html


def test_posting_without_the_csrf_token_is_refused(settings: Settings) -> None:
    strict = Client(enforce_csrf_checks=True)

    refused = strict.post("/status/subscribe", form(email="c@example.com", postcode="2000"))

    assert refused.status_code == 403 and Subscriber.objects.count() == 0
    page = strict.get("/status/subscribe")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    data = form(email="c@example.com", postcode="2000", csrfmiddlewaretoken=token.group(1))
    assert strict.post("/status/subscribe", data).status_code == 200
    assert Subscriber.objects.count() == 1


def test_requests_are_limited_per_client(client: Client, settings: Settings) -> None:
    settings.AMENDS_SUBSCRIBE_REQUESTS_PER_HOUR = 2
    for n in range(2):
        answer = client.post("/status/subscribe", form(email=f"p{n}@example.com", postcode="2000"))
        assert answer.status_code == 200

    third = client.post("/status/subscribe", form(email="p2@example.com", postcode="2000"))
    other_client = client.post(
        "/status/subscribe", form(email="p3@example.com", postcode="2000"), REMOTE_ADDR="10.9.8.7"
    )

    assert third.status_code == 429 and third["Retry-After"]
    assert other_client.status_code == 200
    assert sorted(Subscriber.objects.values_list("address", flat=True)) == [
        "p0@example.com",
        "p1@example.com",
        "p3@example.com",
    ]


def test_confirmations_are_limited_per_address(
    client: Client, settings: Settings, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AMENDS_SUBSCRIBE_CONFIRMATIONS_PER_HOUR = 1
    with django_capture_on_commit_callbacks() as first:
        client.post("/status/subscribe", form(email="d@example.com", postcode="2000"))
    with django_capture_on_commit_callbacks() as second:
        again = client.post("/status/subscribe", form(email="d@example.com", postcode="3000"))

    assert again.status_code == 200  # the same answer
    assert len(first) == 1 and second == []
    assert list(Subscriber.objects.values_list("value", flat=True)) == ["2000"]


# --- SMS: code, reply, STOP ---------------------------------------------------------------


def test_sms_subscription_is_confirmed_with_the_texted_code(
    client: Client, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    page = subscribe(
        client,
        django_capture_on_commit_callbacks,
        channel="sms",
        phone="0412 345 678",
        topic="state",
        state="nsw",
    )

    assert page.status_code == 200 and 'value="0412 345 678"' in page.content.decode()
    subscriber = Subscriber.objects.get()
    assert (subscriber.address, subscriber.value) == ("+61412345678", "NSW")
    assert subscriber_messages.send_confirmation(subscriber.pk).ok
    [texted] = (tmp_path / "outbox" / "sms").iterdir()
    sms = texted.read_text()
    code = re.search(r"code (\d{6})", sms)
    assert code is not None and "Reply YES" in sms and "outages in NSW" in sms
    assert sms_info(sms.split("\n\n", 1)[1]).segments <= 2

    wrong = client.post("/status/confirm", {"phone": "0412345678", "code": "000000"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    right = client.post("/status/confirm", {"phone": "+61 412 345 678", "code": code.group(1)})
    assert right.status_code == 200 and "You are subscribed" in right.content.decode()
    assert Subscriber.objects.get().status == SubscriberStatus.CONFIRMED


def test_guessing_codes_stops_after_five_tries(client: Client) -> None:
    request = subscribers.SubscriptionRequest("sms", "+61412345678", "postcode", "2000", "en")
    subscribers.subscriber_request(request=request)
    subscriber = Subscriber.objects.get()
    code = subscribers.sms_code(subscriber)
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(subscribers.MAX_CODE_ATTEMPTS):
        client.post("/status/confirm", {"phone": "0412345678", "code": wrong})

    late = client.post("/status/confirm", {"phone": "0412345678", "code": code})

    assert late.status_code == 400
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_sms_reply_yes_confirms_and_stop_ends_every_subscription_of_the_number() -> None:
    for value in ("2000", "2650"):
        request = subscribers.SubscriptionRequest("sms", "+61412345678", "postcode", value, "en")
        subscribers.subscriber_request(request=request)

    yes = receive_sms(sender="0412345678", text="yes")
    assert "postcode 2000" in yes.reply and "postcode 2650" in yes.reply
    assert set(Subscriber.objects.values_list("status", flat=True)) == {SubscriberStatus.CONFIRMED}

    stop = receive_sms(sender="+61412345678", text="STOP")
    assert "won't get status texts" in stop.reply
    assert set(Subscriber.objects.values_list("status", flat=True)) == {
        SubscriberStatus.UNSUBSCRIBED
    }
    again = receive_sms(sender="+61412345678", text="YES")  # cannot undo a STOP
    assert again.reply == ""
    assert Subscriber.objects.filter(status=SubscriberStatus.CONFIRMED).count() == 0


# --- one-click unsubscribe ----------------------------------------------------------------


def test_one_click_unsubscribe_ends_every_subscription_of_the_address(client: Client) -> None:
    first = confirmed("email", "eve@example.com", "postcode", "2000")
    confirmed("email", "eve@example.com", "state", "VIC")
    other = confirmed("email", "other@example.com", "postcode", "2000")
    path = f"/status/unsubscribe/{subscribers.current_unsubscribe_token(first)}"

    shown = client.get(path)
    assert shown.status_code == 200 and "e…@example.com" in shown.content.decode()
    assert Subscriber.objects.filter(status=SubscriberStatus.UNSUBSCRIBED).count() == 0
    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, with no cookie or token.
    done = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})

    assert done.status_code == 200
    statuses = dict(
        Subscriber.objects.values_list("value", "status").filter(address="eve@example.com")
    )
    assert statuses == {"2000": "unsubscribed", "VIC": "unsubscribed"}
    other.refresh_from_db()
    assert other.status == SubscriberStatus.CONFIRMED
    assert client.post(path).status_code == 200  # again: harmless
    assert client.get("/status/unsubscribe/not-a-token").status_code == 404


def test_an_unsubscribed_address_can_subscribe_again_with_new_links(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    old = confirmed("email", "fay@example.com", "postcode", "2000")
    old_confirm = subscribers.confirm_token(old)
    subscribers.subscriber_unsubscribe(token=subscribers.current_unsubscribe_token(old))

    subscribe(client, django_capture_on_commit_callbacks, email="fay@example.com", postcode="2000")

    fresh = Subscriber.objects.get()
    assert fresh.status == SubscriberStatus.PENDING
    assert subscribers.confirm_token(fresh) != old_confirm
    assert client.post(f"/status/confirm/{old_confirm}").status_code == 404


# --- delivery of public changes -----------------------------------------------------------


@pytest.fixture
def audience(operator: Operator) -> dict[str, Subscriber]:
    """Who should and should not hear about an outage at postcode 2000 (Sydney, NSW)."""
    people = {
        "postcode": confirmed("email", "pc@example.com", "postcode", "2000", "zh"),
        "state": confirmed("sms", "+61412345678", "state", "NSW", "vi"),
        "product": confirmed("webhook", "https://hooks.example.org/amends", "product", "mobile"),
        "twice": confirmed("email", "twice@example.com", "postcode", "2000"),
        "elsewhere": confirmed("email", "vic@example.com", "postcode", "3000"),
    }
    confirmed("email", "twice@example.com", "state", "NSW")  # a second topic, same address
    request = subscribers.SubscriptionRequest(
        "email", "pending@example.com", "postcode", "2000", "en"
    )
    subscribers.subscriber_request(request=request)  # never confirmed
    gone = confirmed("email", "gone@example.com", "postcode", "2000")
    subscribers.subscriber_unsubscribe(token=subscribers.current_unsubscribe_token(gone))
    return people


def declare_sydney() -> Outage:
    return outage_declare(
        actor="commander",
        title="Sydney CBD outage",
        scope_items=[ScopeSpec(kind="postcode", postcode="2000")],
        cause_public="A cut fibre cable.",
        etr=timezone.now() + timezone.timedelta(hours=3),
    ).outage


def test_a_public_change_reaches_each_matching_subscriber_address_once(
    audience: dict[str, Subscriber], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        outage = declare_sydney()
    update = Update.objects.get(outage=outage)

    notice = subscriber_messages.notify_subscribers(update=update, change="declare")

    assert notice is not None
    assert (notice.audience, notice.kind, notice.status) == (
        Audience.SUBSCRIBERS,
        NoticeKind.ACKNOWLEDGE,
        NoticeStatus.SENDING,
    )
    reached = dict(Delivery.objects.filter(notice=notice).values_list("address", "channel"))
    assert reached == {
        "pc@example.com": "email",
        "+61412345678": "sms",
        "https://hooks.example.org/amends": "webhook",
        "twice@example.com": "email",
    }
    assert notice.recipients == 4
    assert Delivery.objects.filter(notice=notice, customer__isnull=False).count() == 0
    assert subscriber_messages.notify_subscribers(update=update, change="declare") is None
    assert notify_subscribers_task.call(update.pk, "declare") == 0  # a repeated task: nothing


def test_private_updates_tell_no_subscriber(audience: dict[str, Subscriber]) -> None:
    outage = declare_sydney()
    internal = outage_post_update(
        actor="commander", outage=outage, message="Vendor ticket 4471", visibility="internal"
    )

    assert subscriber_messages.notify_subscribers(update=internal, change="update") is None
    assert Notice.objects.filter(audience=Audience.SUBSCRIBERS).count() == 0


def test_subscriber_messages_go_through_dispatch_with_one_click_unsubscribe(
    audience: dict[str, Subscriber], smtp: SmtpServer, tmp_path: Path, client: Client
) -> None:
    outage = declare_sydney()
    notice = subscriber_messages.notify_subscribers(
        update=Update.objects.get(outage=outage), change="declare"
    )
    assert notice is not None

    assert run_notice(notice.pk) == "done"

    statuses = set(Delivery.objects.filter(notice=notice).values_list("status", flat=True))
    assert statuses == {DeliveryStatus.SENT}
    by_to = {recipients[0]: message for recipients, message in smtp.received}
    assert set(by_to) == {"pc@example.com", "twice@example.com"}
    chinese = by_to["pc@example.com"]
    assert chinese["Subject"].strip().startswith("服务中断：Sydney CBD outage")
    body = chinese.get_body(("plain",)).get_content()
    assert "Sydney NSW" in body and "A cut fibre cable" in body and "000" in body
    assert "https://status.example.net/status/zh/" + outage.reference in body
    unsubscribe = chinese["List-Unsubscribe"].strip().strip("<>")
    assert chinese["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in body and unsubscribe.startswith(f"{SITE}/status/unsubscribe/")
    sms = (
        tmp_path / "outbox" / "sms" / f"n{notice.pk}-s{audience['state'].pk}-sms.txt"
    ).read_text()
    assert outage.reference in sms and "/status/unsubscribe/" in sms
    assert (tmp_path / "outbox" / "webhook").is_dir()

    Client(enforce_csrf_checks=True).post(unsubscribe.removeprefix(SITE))
    later = outage_post_update(actor="commander", outage=outage, message="Crews are splicing.")
    second = subscriber_messages.notify_subscribers(update=later, change="update")
    assert second is not None
    addresses = set(Delivery.objects.filter(notice=second).values_list("address", flat=True))
    assert "pc@example.com" not in addresses and "twice@example.com" in addresses


def test_a_newer_change_supersedes_what_an_older_one_has_not_sent(
    audience: dict[str, Subscriber],
) -> None:
    outage = declare_sydney()
    first = subscriber_messages.notify_subscribers(
        update=Update.objects.get(outage=outage), change="declare"
    )
    resolved = outage_transition(actor="commander", outage=outage, to="resolved").outage

    second = subscriber_messages.notify_subscribers(
        update=resolved.updates.order_by("-id").first(), change="resolve"
    )

    assert first is not None and second is not None
    first.refresh_from_db()
    assert first.status == NoticeStatus.SUPERSEDED and second.supersedes_id == first.pk
    assert second.kind == NoticeKind.RESTORED
    assert set(Delivery.objects.filter(notice=first).values_list("status", flat=True)) == {
        DeliveryStatus.SUPERSEDED
    }


def test_customer_notices_neither_supersede_nor_include_subscribers(
    audience: dict[str, Subscriber],
) -> None:
    outage = declare_sydney()
    told = subscriber_messages.notify_subscribers(
        update=Update.objects.get(outage=outage), change="declare"
    )
    author = staff_user_set(
        actor="t", username="cleo", role=Role.COMMUNICATIONS, password="pw-123456-x"
    )
    update = notice_create(actor=author, kind="update", audience="all_affected", outage=outage)
    notice_submit(actor=author, notice=update)

    assert told is not None
    told.refresh_from_db()
    assert told.status == NoticeStatus.SENDING
    assert not Delivery.objects.filter(notice=update, subscriber__isnull=False).exists()
    with pytest.raises(AmendsError) as refused:
        notice_create(actor=author, kind="update", audience="subscribers", outage=outage)
    assert refused.value.field == "audience"


def test_a_delivery_has_exactly_one_recipient(audience: dict[str, Subscriber]) -> None:
    outage = declare_sydney()
    notice = Notice.objects.create(outage=outage, kind="update", audience="subscribers")
    with pytest.raises(IntegrityError):
        Delivery.objects.create(
            notice=notice, channel="email", address="x@example.com", next_attempt_at=timezone.now()
        )


# --- wording ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", templating.LANGUAGES)
@pytest.mark.parametrize("channel", ["email", "sms", "webhook"])
def test_every_subscriber_message_renders_in_every_language(
    audience: dict[str, Subscriber], language: str, channel: str
) -> None:
    outage = declare_sydney()
    notice = Notice.objects.create(
        outage=outage, kind="update", audience="subscribers", message="Crews are on site."
    )
    owner = {"email": "postcode", "sms": "state", "webhook": "product"}[channel]
    subscriber = confirmed(channel, audience[owner].address, "postcode", "2650", language)
    delivery = Delivery(notice=notice, subscriber=subscriber, channel=channel, language=language)

    rendered, context = subscriber_messages.render_change(delivery)
    confirmation = subscriber_messages.confirmation_message(subscriber)

    assert rendered.language == ("en" if channel == "webhook" else language)
    assert context["unsubscribe_url"] in rendered.text
    assert "/status/confirm" in confirmation.text
    assert outage.reference in rendered.text + rendered.subject
    if channel == "sms":
        info = sms_info(rendered.text)
        assert info.segments <= (2 if language == "en" else 4), info.characters
        assert sms_info(confirmation.text).segments <= (2 if language == "en" else 3)
    if channel == "email":
        assert (
            rendered.html.startswith("<!DOCTYPE html>")
            and context["unsubscribe_url"] in rendered.html
        )
