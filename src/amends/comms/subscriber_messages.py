"""What status subscribers are sent: a notice of every public change, and their confirmation.

Notices
    ``notify_subscribers`` turns one public timeline entry into one notice to the audience
    ``subscribers`` with one delivery per confirmed address whose postcode, state or product
    kind the outage reached (one ``INSERT … SELECT`` over the outage's impact). The notice is
    released at once (the public change was already made public by the person who made it;
    there is nothing more to approve) and goes through the same dispatch workers, leases,
    idempotency keys, rate limits, retries and receipts as customer notices. A newer change
    supersedes what an older notice of the same outage has not sent yet: every message
    carries the outage's whole current state, so only the latest matters.

    Deliberately *not* applied to subscribers: quiet hours, the hourly cap and outage-aware
    holding (they chose the address and the topic themselves, we know nothing of their
    mobile service), and fallback to another channel (each subscription has exactly one).

Content
    The outage as the status page shows it (``statuspage.queries.public_footprint``): its
    areas, service kinds, cause, ETR, next update and links, never anything about one
    customer. Wording ships per language under ``templating/templates/<language>/
    status_change`` and ``subscription_confirm``.

Confirmations
    ``send_confirmation`` writes the one message a pending subscription gets, straight to the
    channel (rate-limited like dispatch, with the same idempotency key on a retry): it is a
    reply to the person's own request, not a notice, so it has no place in the notices list.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from amends.comms import templating
from amends.comms.channels.base import ChannelError, OutboundMessage, SendResult
from amends.comms.channels.registry import channel_for
from amends.comms.models import (
    Audience,
    Delivery,
    DeliveryStatus,
    Notice,
    NoticeKind,
    NoticeStatus,
    Priority,
    Subscriber,
    SubscriberStatus,
    SubscriptionTopic,
)
from amends.comms.outbound import outbound_message
from amends.comms.ratelimit import acquire
from amends.comms.subscribers import confirm_token, current_unsubscribe_token, sms_code
from amends.core import audit, urgent_help
from amends.core.db import allow_bulk_memory
from amends.outages.models import OPEN_STATUSES, Outage, Update, Visibility
from amends.outages.queries import localized
from amends.statuspage.queries import PublicFootprint, public_footprint
from amends.statuspage.strings import Strings

log = logging.getLogger(__name__)

# What each kind of public change is called as a notice.
CHANGE_KINDS = {
    "declare": NoticeKind.ACKNOWLEDGE,
    "etr": NoticeKind.ETR_CHANGED,
    "restore": NoticeKind.RESTORED,
    "resolve": NoticeKind.RESTORED,
}
AREAS_SHOWN = 8  # place names in a message; the rest are counted
_MORE_PLACES = {"en": "{n} more places", "zh": "另外{n}处", "vi": "{n} nơi khác"}
_TOPICS = {
    "en": {
        "postcode": "outages in postcode {v}",
        "state": "outages in {v}",
        "product": "{v} outages",
    },
    "zh": {"postcode": "邮编{v}的服务中断", "state": "{v}的服务中断", "product": "{v}服务中断"},
    "vi": {"postcode": "sự cố ở mã bưu điện {v}", "state": "sự cố ở {v}", "product": "sự cố {v}"},
}
_SCALE = {
    "en": "about {n} services in {states}",
    "zh": "{states}约{n}项服务",
    "vi": "khoảng {n} dịch vụ ở {states}",
}


def _db(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# --- creating the notice ------------------------------------------------------------------

# The outage's footprint as (topic, value) pairs, matched against confirmed subscriptions;
# the smallest id per address is the one subscription an address is written to. The WITH
# goes after INSERT INTO so that SQLite reports the rows inserted.
_INSERT = f"""
INSERT INTO comms_delivery (notice_id, customer_id, subscriber_id, channel, address, language,
    priority, status, attempts, next_attempt_at, provider, provider_id, error, fallback_from)
WITH footprint AS (
    SELECT sv.postcode AS postcode, sv.state AS state, p.kind AS kind
    FROM outages_impact i
    JOIN network_service sv ON sv.id = i.service_id
    JOIN network_product p ON p.id = sv.product_id
    WHERE i.outage_id = %s
    GROUP BY sv.postcode, sv.state, p.kind
), topics AS (
    SELECT '{SubscriptionTopic.POSTCODE}' AS topic, postcode AS value FROM footprint
    UNION SELECT '{SubscriptionTopic.STATE}', state FROM footprint
    UNION SELECT '{SubscriptionTopic.PRODUCT}', kind FROM footprint
), chosen AS (
    SELECT MIN(s.id) AS id FROM comms_subscriber s
    JOIN topics t ON t.topic = s.topic AND t.value = s.value
    WHERE s.status = '{SubscriberStatus.CONFIRMED}'
    GROUP BY s.channel, s.address
)
SELECT %s, CAST(NULL AS BIGINT), s.id, s.channel, s.address, s.language, {Priority.EVERYONE},
    '{DeliveryStatus.QUEUED}', 0, %s, '', '', '', ''
FROM chosen JOIN comms_subscriber s ON s.id = chosen.id
"""  # noqa: S608 - constants only; the values are parameters


def insert_subscriber_deliveries(notice: Notice) -> int:
    """One queued delivery per confirmed subscriber address the notice's outage reached."""
    allow_bulk_memory()
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [notice.outage_id, notice.pk, _db(timezone.now())])
        return int(cursor.rowcount)


def _change_kind(change: str, outage: Outage) -> str:
    kind = CHANGE_KINDS.get(change, NoticeKind.UPDATE)
    if kind == NoticeKind.RESTORED and outage.restored_at is None:
        return NoticeKind.UPDATE  # part of it is back: an update for the rest
    return kind


def _supersede_older(notice: Notice) -> list[int]:
    older = list(
        Notice.objects.select_for_update()
        .filter(
            outage=notice.outage,
            audience=Audience.SUBSCRIBERS,
            status__in=(NoticeStatus.APPROVED, NoticeStatus.SENDING),
        )
        .exclude(pk=notice.pk)
    )
    now = timezone.now()
    for old in older:
        Delivery.objects.filter(notice=old, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.SUPERSEDED,
            error=f"superseded by notice {notice.pk}",
            finished_at=now,
        )
        old.status, old.finished_at = NoticeStatus.SUPERSEDED, now
        old.save(update_fields=["status", "finished_at"])
    return [old.pk for old in older]


def notify_subscribers(*, update: Update, change: str) -> Notice | None:
    """The notice of one public change to its subscribers, once per update (a repeated call
    returns None and changes nothing)."""
    from amends.comms.services import wake_dispatcher  # services → audience → here: late

    if update.visibility != Visibility.PUBLIC:
        return None
    now = timezone.now()
    with transaction.atomic():
        outage = Outage.objects.get(pk=update.outage_id)
        try:
            with transaction.atomic():
                notice = Notice.objects.create(
                    outage=outage,
                    update=update,
                    kind=_change_kind(change, outage),
                    audience=Audience.SUBSCRIBERS,
                    message=update.message,
                    status=NoticeStatus.SENDING,
                    approved_at=now,
                    sent_at=now,
                )
        except IntegrityError:  # notice_once_per_update: this update was already told
            return None
        superseded = _supersede_older(notice)
        notice.recipients = insert_subscriber_deliveries(notice)
        notice.supersedes_id = superseded[-1] if superseded else None
        if notice.recipients == 0:
            notice.status, notice.finished_at = NoticeStatus.SENT, now
        notice.save(update_fields=["recipients", "supersedes", "status", "finished_at"])
        audit.record(
            "system",
            "comms.subscriber_notice",
            notice,
            after={
                "outage": outage.reference,
                "update": update.pk,
                "kind": notice.kind,
                "recipients": notice.recipients,
                "superseded": superseded,
            },
        )
        if notice.recipients:
            wake_dispatcher(notice.pk)
    return notice


# --- what a subscriber's message says -----------------------------------------------------


def _site_path(language: str, path: str = "") -> str:
    prefix = "" if language == "en" else f"{language}/"
    return f"{settings.AMENDS_STATUSPAGE_URL}{prefix}{path}"


def _lang_query(language: str) -> str:
    return "" if language == "en" else f"?lang={language}"


def topic_words(subscriber: Subscriber, language: str) -> str:
    """ "outages in postcode 2000", in the subscriber's language."""
    value = subscriber.value
    if subscriber.topic == SubscriptionTopic.PRODUCT:
        value = Strings(language)(f"kind_{value}")
    return _TOPICS[language][subscriber.topic].format(v=value)


def _shared_context(subscriber: Subscriber, language: str) -> dict[str, Any]:
    site = settings.SITE_URL
    token = current_unsubscribe_token(subscriber)
    return {
        "operator": {"name": settings.AMENDS_OPERATOR_NAME},
        "help_line": settings.AMENDS_HELP_LINE,
        **urgent_help.for_messages(language),
        "time_zone": settings.TIME_ZONE,
        "status_page_url": _site_path(language),
        "subscription": {"topic": topic_words(subscriber, language)},
        "unsubscribe_url": f"{site}/status/unsubscribe/{token}{_lang_query(language)}",
    }


@lru_cache(maxsize=64)
def _footprint(outage_id: int, updated_at: datetime) -> PublicFootprint:
    """Cached per outage version: a big notice renders in many batches of one worker."""
    return public_footprint(Outage.objects.get(pk=outage_id))


def _areas(footprint: PublicFootprint, language: str) -> list[str]:
    t = Strings(language)
    places: list[str] = []
    for area in footprint.areas:
        if area.whole_state:
            places.append(t("whole_state", state=area.state))
        else:
            places += [f"{place} {area.state}" for place in area.localities]
    if len(places) > AREAS_SHOWN:
        more = _MORE_PLACES[language].format(n=len(places) - AREAS_SHOWN + 1)
        places = [*places[: AREAS_SHOWN - 1], more]
    return places


def outage_context(outage: Outage, language: str) -> dict[str, Any]:
    """The outage as the public may know it, in the subscriber's language."""
    footprint = _footprint(outage.pk, outage.updated_at)
    t = Strings(language)
    states = t.list_sep.join(footprint.states) or "—"
    return {
        "reference": outage.reference,
        "title": localized(outage, "title", language),
        "summary": localized(outage, "public_summary", language),
        "cause": localized(outage, "cause_public", language).strip().rstrip(".。"),
        "status": t(f"status_{outage.status}"),
        "is_open": outage.status in OPEN_STATUSES,
        "areas": _areas(footprint, language),
        "services": [t(f"kind_{kind}") for kind in footprint.kinds],
        "scale": _SCALE[language].format(n=f"{outage.affected_services:,}", states=states),
        "affected_services": outage.affected_services,
        "states": list(footprint.states),
        "started_at": outage.started_at,
        "etr": outage.etr,
        "next_update_by": outage.next_update_by,
        "restored_at": outage.restored_at,
    }


def change_context(delivery: Delivery, language: str) -> dict[str, Any]:
    notice, subscriber = delivery.notice, delivery.subscriber
    assert notice.outage is not None and subscriber is not None  # subscriber notices have both
    return {
        **_shared_context(subscriber, language),
        "outage": outage_context(notice.outage, language),
        "outage_url": _site_path(language, f"{notice.outage.reference}/"),
        "message": notice.message,
        "change": notice.kind,
    }


def _language(tag: str) -> str:
    primary = tag.split("-")[0].lower()
    return primary if primary in templating.LANGUAGES else "en"


def render_change(delivery: Delivery) -> tuple[templating.Rendered, dict[str, Any]]:
    """A subscriber delivery's message; raises MissingTemplate or TemplateProblem."""
    language = _language(delivery.language)
    context = change_context(delivery, language)
    return templating.render("status_change", delivery.channel, language, context), context


# --- the confirmation ---------------------------------------------------------------------


def confirmation_message(subscriber: Subscriber) -> OutboundMessage:
    language = _language(subscriber.language)
    site = settings.SITE_URL
    query = _lang_query(language)
    token_url = f"{site}/status/confirm/{confirm_token(subscriber)}{query}"
    context = {
        **_shared_context(subscriber, language),
        "confirm_url": f"{site}/status/confirm{query}"
        if subscriber.channel == "sms"
        else token_url,
        "confirm_code": sms_code(subscriber),
    }
    rendered = templating.render("subscription_confirm", subscriber.channel, language, context)
    return outbound_message(
        delivery_id=0,
        key=f"sub{subscriber.pk}-{subscriber.token_salt[:8]}-confirm",
        channel=subscriber.channel,
        to=subscriber.address,
        rendered=rendered,
        unsubscribe_url=context["unsubscribe_url"],
    )


def send_confirmation(subscriber_id: int) -> SendResult | None:
    """Send a pending subscription its confirmation; None when there is nothing to send (it
    was confirmed or ended meanwhile). A temporary failure is returned for the task to retry."""
    subscriber = Subscriber.objects.filter(
        pk=subscriber_id, status=SubscriberStatus.PENDING
    ).first()
    if subscriber is None:
        return None
    message = confirmation_message(subscriber)
    channel = channel_for(subscriber.channel)
    acquire(channel.name, 1, rate=channel.rate_per_second)
    try:
        [result] = channel.send_batch([message])
    except ChannelError as exc:
        result = SendResult(0, ok=False, error=exc.message, permanent=exc.permanent)
    if result.ok:
        Subscriber.objects.filter(pk=subscriber.pk).update(confirm_sent_at=timezone.now())
    else:
        log.warning("confirmation to subscriber %s failed: %s", subscriber.pk, result.error)
    return result
