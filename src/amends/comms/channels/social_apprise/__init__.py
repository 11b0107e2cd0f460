"""Posts to the operator's social and chat accounts (Mastodon, Bluesky, X, Telegram, Slack,
Teams, …) through apprise, each account one apprise URL in AMENDS_SOCIAL_URLS.

A message's ``to`` is blank (post to every account) or one of those URLs (post to that one).
Any other URL is refused: the URLs carry the accounts' tokens and live in the configuration,
never in message data. With a blank ``to`` a failure on one account fails the message and a
retry posts to all again, so a delivery per account is the way to avoid double posts.
"""

from __future__ import annotations

from apprise import Apprise
from django.conf import settings

from amends.comms.channels.base import OutboundMessage, SendResult
from amends.comms.channels.sending import failed, sent
from amends.env import ConfigurationError

__all__ = ["AppriseChannel", "from_settings"]


def notifier(urls: list[str]) -> Apprise:
    apobj = Apprise()
    for position, url in enumerate(urls, start=1):
        if not apobj.add(url):
            # Not the URL itself: it holds the account's token.
            raise ConfigurationError(f"AMENDS_SOCIAL_URLS entry {position} is not an apprise URL")
    return apobj


class AppriseChannel:
    capability = "social"
    name = "apprise"

    def __init__(
        self, urls: list[str], *, rate_per_second: float = 1.0, batch_size: int = 10
    ) -> None:
        if not urls:
            raise ConfigurationError("social=apprise needs AMENDS_SOCIAL_URLS")
        self.rate_per_second = rate_per_second
        self.batch_size = batch_size
        self._everyone = notifier(urls)
        self._each = {url: notifier([url]) for url in urls}

    def send_batch(self, messages: list[OutboundMessage]) -> list[SendResult]:
        return [self._post(message) for message in messages]

    def _post(self, message: OutboundMessage) -> SendResult:
        target = self._each.get(message.to) if message.to else self._everyone
        if target is None:
            return failed(message, "not one of the configured social accounts", permanent=True)
        if not target.notify(body=message.text, title=message.subject):
            return failed(message, "apprise could not post to every account", permanent=False)
        return sent(message, "")


def from_settings() -> AppriseChannel:
    return AppriseChannel(list(settings.AMENDS_SOCIAL_URLS))
