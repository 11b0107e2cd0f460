"""Each public update, posted to the operator's social accounts (``AMENDS_SOCIAL_URLS``,
apprise URLs) through the ``social`` channel: apprise with ``AMENDS_CHANNELS=social=apprise``,
else the embedded outbox.

Never twice: a ``SocialPost`` row per update and account is written before anything is sent
(unique together), and a worker takes it with a conditional update (``pending`` → ``posting``)
before posting, so two workers or a repeated task cannot both post it. A temporary failure puts
it back to ``pending`` for the task to retry later; if a worker dies mid-post the row stays
``posting`` and is not retried: a missing post can be made by hand, a double one cannot be
taken back.

Per platform: a post fits the account's limit (X 280, Bluesky 300, Mastodon 500 characters;
other services up to ``MAX_POST``), cutting the update's text, never the link to the outage's
page on the status site. Apprise reports only whether the service accepted a post, not the
post's id: that answer is what ``SocialPost.result`` keeps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from apprise import Apprise
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from amends.comms.channels.base import ChannelError, OutboundMessage, SendResult
from amends.comms.channels.registry import channel_for
from amends.comms.dispatch import backoff
from amends.comms.ratelimit import acquire
from amends.core import audit
from amends.env import ConfigurationError
from amends.outages.models import (
    OPEN_STATUSES,
    Outage,
    SocialPost,
    SocialPostStatus,
    Update,
    Visibility,
)
from amends.statuspage.pages import shorten
from amends.statuspage.strings import Strings

MAX_POST = 1000  # chat and webhook services take far more; a status post should not
# Public post limits of the services apprise can post to (its own body_maxlen is the
# direct-message or API limit for some, e.g. 10,000 for X).
PLATFORM_LIMITS = {
    "x": 280,
    "twitter": 280,
    "tweet": 280,
    "bluesky": 300,
    "bsky": 300,
    "mastodon": 500,
    "mastodons": 500,
    "toot": 500,
    "toots": 500,
    "threads": 500,
}


@dataclass(frozen=True)
class Account:
    url: str  # holds the account's credentials: never stored, never shown
    key: str  # SHA-256 of the URL: which account a post went to
    label: str  # the URL with its secrets masked, for people
    limit: int  # characters a post may have


def account(url: str, position: int) -> Account:
    plugin = Apprise.instantiate(url)
    if plugin is None:
        raise ConfigurationError(f"AMENDS_SOCIAL_URLS entry {position} is not an apprise URL")
    schema = url.split("://", 1)[0].lower()
    limit = min(PLATFORM_LIMITS.get(schema, MAX_POST), int(plugin.body_maxlen) or MAX_POST)
    return Account(
        url=url,
        key=hashlib.sha256(url.encode()).hexdigest(),
        label=str(plugin.url(privacy=True)).split("?", 1)[0][:255],  # type: ignore[no-untyped-call]
        limit=limit,
    )


def configured_accounts(urls: list[str] | None = None) -> list[Account]:
    chosen = settings.AMENDS_SOCIAL_URLS if urls is None else urls
    return [account(url, position) for position, url in enumerate(chosen, start=1)]


def outage_link(outage: Outage) -> str:
    return f"{settings.AMENDS_STATUSPAGE_URL}{outage.reference}/"


def post_text(update: Update, outage: Outage, *, limit: int) -> str:
    """The post: title and status, the update's words (cut to fit), when it will be back, and
    the link to the outage's page, which is always there in full."""
    t = Strings("en")
    head = f"{outage.title} ({t(f'status_{update.status}')})"
    if outage.status in OPEN_STATUSES:
        when = f"Expected back: {t.when(outage.etr)}." if outage.etr else "No fix time yet."
    else:
        when = f"Restored {t.when(outage.restored_at or outage.resolved_at)}."
    link = outage_link(outage)
    fixed = len(head) + len(when) + len(link) + 3  # three line breaks
    room = limit - fixed
    if room < 20:  # a tiny limit: the link and as much of the title as fits
        return f"{shorten(head, max(limit - len(link) - 1, 1))}\n{link}"[:limit]
    return f"{head}\n{shorten(update.message, room)}\n{when}\n{link}"


def _ensure_rows(update: Update, outage: Outage, accounts: list[Account]) -> None:
    now = timezone.now()
    for acct in accounts:
        try:
            with transaction.atomic():
                post = SocialPost.objects.create(
                    update=update,
                    account_key=acct.key,
                    account=acct.label,
                    text=post_text(update, outage, limit=acct.limit),
                    created_at=now,
                )
        except IntegrityError:  # another run wrote it first: it owns the post
            continue
        audit.record("system", "statuspage.social_post_queued", post, after={"account": acct.label})


def _claim(post: SocialPost) -> bool:
    """Take the post for this worker; False if another has it or it is done."""
    return bool(
        SocialPost.objects.filter(pk=post.pk, status=SocialPostStatus.PENDING).update(
            status=SocialPostStatus.POSTING, attempts=post.attempts + 1
        )
    )


def _send(post: SocialPost, acct: Account) -> SendResult:
    channel = channel_for("social")
    # Only the apprise channel is told the account's URL (it must be one it was configured
    # with); the outbox writes the credential-free label into its file instead.
    message = OutboundMessage(
        delivery_id=post.pk,
        idempotency_key=f"update{post.update_id}-{acct.key[:12]}",
        capability="social",
        to=acct.url if channel.name == "apprise" else acct.label,
        text=post.text,
    )
    acquire(channel.name, 1, rate=channel.rate_per_second)
    try:
        [result] = channel.send_batch([message])
    except ChannelError as exc:
        result = SendResult(post.pk, ok=False, error=exc.message, permanent=exc.permanent)
    return result


def _record(post: SocialPost, result: SendResult, *, provider: str) -> str:
    attempts = post.attempts + 1
    if result.ok:
        status = SocialPostStatus.POSTED
        answer = result.provider_id or f"accepted ({provider}; no post id given)"
    elif not result.permanent and attempts < settings.AMENDS_MAX_ATTEMPTS:
        status, answer = SocialPostStatus.PENDING, ""
    else:
        status, answer = SocialPostStatus.FAILED, ""
    SocialPost.objects.filter(pk=post.pk, status=SocialPostStatus.POSTING).update(
        status=status,
        result=answer[:255],
        error=result.error[:2000],
        posted_at=timezone.now() if result.ok else None,
    )
    audit.record(
        "system",
        "statuspage.social_post",
        post,
        before={"status": SocialPostStatus.POSTING},
        after={"status": status, "result": answer, "error": result.error},
    )
    return status


def post_update(update_id: int, *, urls: list[str] | None = None) -> str:
    """Post one public update to every configured account not yet posted to. Returns "done",
    or "later" when a temporary failure left some to retry."""
    update = Update.objects.select_related("outage").get(pk=update_id)
    if update.visibility != Visibility.PUBLIC:
        return "done"
    accounts = {acct.key: acct for acct in configured_accounts(urls)}
    _ensure_rows(update, update.outage, list(accounts.values()))
    waiting = False
    provider = channel_for("social").name
    for post in SocialPost.objects.filter(
        update=update, status=SocialPostStatus.PENDING, account_key__in=list(accounts)
    ):
        if not _claim(post):
            continue
        status = _record(post, _send(post, accounts[post.account_key]), provider=provider)
        waiting |= status == SocialPostStatus.PENDING
    return "later" if waiting else "done"


def retry_delay(update_id: int) -> float:
    """Seconds before the next try, from the most-tried post still pending."""
    attempts = (
        SocialPost.objects.filter(update_id=update_id, status=SocialPostStatus.PENDING)
        .order_by("-attempts")
        .values_list("attempts", flat=True)
        .first()
    )
    return backoff(attempts or 1).total_seconds()
