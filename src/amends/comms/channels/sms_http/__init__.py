"""SMS through any HTTP gateway that takes JSON: an aggregator, an in-house SMSC bridge, or
the benchmark's sink.

Single mode POSTs one message per request with an ``Idempotency-Key`` header. Batch mode
(AMENDS_SMS_HTTP_BATCH) POSTs ``{"messages": [...]}`` and expects
``{"results": [{"id": …, "status": "accepted" | "rejected", "error": …}, …]}`` in the same
order; each message's key travels in its own body through the ``{idempotency_key}``
placeholder, and the request's header carries a digest of the batch's keys.
"""

from __future__ import annotations

import hashlib

import httpx
from django.conf import settings

from amends.comms.channels.base import ChannelError, OutboundMessage, SendResult
from amends.comms.channels.http_errors import (
    ACCOUNT_REFUSED,
    account_refused,
    describe,
    failure_for_status,
    is_unreachable,
    pooled_client,
)
from amends.comms.channels.sending import failed, send_each, sent
from amends.comms.channels.sms_http.template import Json, compile_filler, parse_template
from amends.env import ConfigurationError

__all__ = ["HttpSmsChannel", "from_settings"]


class HttpSmsChannel:
    capability = "sms"
    name = "http"

    def __init__(
        self,
        *,
        url: str,
        template: Json,
        client: httpx.Client,
        batch: bool = False,
        batch_size: int = 500,
        rate_per_second: float = 100.0,
    ) -> None:
        self.url = url
        self.batch = batch
        self.batch_size = batch_size
        self.rate_per_second = rate_per_second
        self._fill = compile_filler(template)
        self._client = client

    def send_batch(self, messages: list[OutboundMessage]) -> list[SendResult]:
        if self.batch:
            return self._send_all(messages)
        return send_each(messages, self._send_one)

    def _send_one(self, message: OutboundMessage) -> SendResult:
        body = self._fill(message)
        headers = {"Idempotency-Key": message.idempotency_key}
        try:
            response = self._client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            if is_unreachable(exc):
                raise ChannelError(f"SMS gateway unreachable: {describe(exc)}") from exc
            return failed(message, describe(exc), permanent=False)
        if response.is_success:
            return sent(message, _id_in(response) or message.idempotency_key)
        if response.status_code in ACCOUNT_REFUSED:
            raise account_refused("SMS gateway", response.status_code, response.text[:200])
        return failure_for_status(message, response.status_code, response.text[:200])

    def _send_all(self, messages: list[OutboundMessage]) -> list[SendResult]:
        """One request for the batch; any failure of the request as a whole is the batch's."""
        body = {"messages": [self._fill(m) for m in messages]}
        keys = "\n".join(m.idempotency_key for m in messages)
        headers = {"Idempotency-Key": hashlib.sha256(keys.encode()).hexdigest()}
        try:
            response = self._client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"SMS batch not sent: {describe(exc)}") from exc
        if not response.is_success:
            status = response.status_code
            raise ChannelError(f"SMS batch refused: HTTP {status}: {response.text[:200]}")
        results = _results_in(response, len(messages))
        return [_result_of(m, r) for m, r in zip(messages, results, strict=True)]


def _id_in(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("id", "")) if isinstance(body, dict) else ""


def _results_in(response: httpx.Response, count: int) -> list[dict[str, object]]:
    try:
        results = response.json()["results"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ChannelError(f"SMS batch answer has no results list: {describe(exc)}") from exc
    if not isinstance(results, list) or len(results) != count:
        raise ChannelError(f"SMS batch answer does not have {count} results")
    return [r if isinstance(r, dict) else {} for r in results]


def _result_of(message: OutboundMessage, result: dict[str, object]) -> SendResult:
    status = result.get("status")
    if status == "accepted":
        return sent(message, str(result.get("id") or message.idempotency_key))
    error = str(result.get("error") or f"status {status!r}")
    return failed(message, error, permanent=status == "rejected")


def from_settings() -> HttpSmsChannel:
    if not settings.AMENDS_SMS_HTTP_URL:
        raise ConfigurationError("sms=http needs AMENDS_SMS_HTTP_URL")
    token = settings.AMENDS_SMS_HTTP_TOKEN
    return HttpSmsChannel(
        url=settings.AMENDS_SMS_HTTP_URL,
        template=parse_template(
            settings.AMENDS_SMS_HTTP_TEMPLATE, setting="AMENDS_SMS_HTTP_TEMPLATE"
        ),
        client=pooled_client(
            timeout=settings.AMENDS_CHANNEL_TIMEOUT,
            headers={"Authorization": f"Bearer {token}"} if token else None,
        ),
        batch=settings.AMENDS_SMS_HTTP_BATCH,
        batch_size=settings.AMENDS_SMS_HTTP_BATCH_SIZE,
    )
