"""What the status-page console shows beside publishing: how many people subscribed (and
how far they got), how the messages to them are going, and what the social accounts said.
Each is a handful of grouped queries, whatever the number of subscribers or deliveries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count

from amends.comms.models import (
    OPEN_DELIVERY,
    SUBSCRIBER_CHANNELS,
    Audience,
    Capability,
    Delivery,
    Notice,
    Subscriber,
    SubscriberStatus,
    SubscriptionTopic,
)
from amends.comms.preview import DONE, FAILED
from amends.outages.models import SocialPost

RECENT_NOTICES = 10
RECENT_POSTS = 20


@dataclass(frozen=True)
class CountRow:
    """Subscriptions of one channel or topic, by status."""

    label: str
    confirmed: int
    pending: int
    unsubscribed: int

    @property
    def total(self) -> int:
        return self.confirmed + self.pending + self.unsubscribed


@dataclass(frozen=True)
class SubscriberCounts:
    total: CountRow
    by_channel: tuple[CountRow, ...]
    by_topic: tuple[CountRow, ...]
    confirmed_addresses: int  # what one notice to every subscriber reaches at most


def _row(label: str, counts: dict[str, int]) -> CountRow:
    return CountRow(
        label,
        counts.get(SubscriberStatus.CONFIRMED, 0),
        counts.get(SubscriberStatus.PENDING, 0),
        counts.get(SubscriberStatus.UNSUBSCRIBED, 0),
    )


def subscriber_counts() -> SubscriberCounts:
    """Subscriptions by status, by channel and by topic (what they are about), in one query,
    and the distinct confirmed addresses in a second."""
    by_channel: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_topic: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, int] = defaultdict(int)
    rows = Subscriber.objects.values_list("channel", "topic", "status").annotate(n=Count("id"))
    for channel, topic, status, n in rows.order_by():
        by_channel[channel][status] += n
        by_topic[topic][status] += n
        total[status] += n
    addresses = (
        Subscriber.objects.filter(status=SubscriberStatus.CONFIRMED)
        .values("channel", "address")
        .distinct()
        .count()
    )
    return SubscriberCounts(
        total=_row("All", total),
        by_channel=tuple(
            _row(Capability(channel).label, by_channel[channel]) for channel in SUBSCRIBER_CHANNELS
        ),
        by_topic=tuple(_row(topic.label, by_topic[topic.value]) for topic in SubscriptionTopic),
        confirmed_addresses=addresses,
    )


@dataclass(frozen=True)
class NoticeProgress:
    """One message to subscribers and how far its deliveries got."""

    notice: Notice
    total: int
    done: int  # sent or delivered
    waiting: int  # queued, held or being sent
    failed: int  # failed, bounced or dead after retries

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def recent_subscriber_notices(limit: int = RECENT_NOTICES) -> list[NoticeProgress]:
    """The latest notices to status subscribers, with their deliveries counted in one grouped
    query for all of them."""
    notices = list(
        Notice.objects.filter(audience=Audience.SUBSCRIBERS)
        .select_related("outage", "update")
        .order_by("-created_at", "-id")[:limit]
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Delivery.objects.filter(notice__in=notices)
        .values_list("notice_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for notice_id, status, n in rows:
        counts[notice_id][status] = n

    def progress(notice: Notice) -> NoticeProgress:
        mine = counts[notice.pk]
        return NoticeProgress(
            notice,
            total=sum(mine.values()),
            done=sum(mine.get(s, 0) for s in DONE),
            waiting=sum(mine.get(s, 0) for s in OPEN_DELIVERY),
            failed=sum(mine.get(s, 0) for s in FAILED),
        )

    return [progress(notice) for notice in notices]


def recent_social_posts(limit: int = RECENT_POSTS) -> list[SocialPost]:
    """The latest posts to the operator's social accounts, newest first, with their outage."""
    return list(
        SocialPost.objects.select_related("update__outage").order_by("-created_at", "-id")[:limit]
    )
