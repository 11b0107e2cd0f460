"""The embedded default for every capability: each message becomes a file under
``{DATA_DIR}/outbox/<capability>/`` that a person (or a test) can open.

Email is a real ``.eml`` (what an SMTP server would have received), a webhook a ``.json``,
everything else a ``.txt`` with a To/Subject header block. The file is named after the
idempotency key, so a message sent again after a crash overwrites its file instead of adding
a second one: the outbox shows the same at-most-one-copy outcome a provider would.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from django.conf import settings

from amends.comms.channels.base import ChannelError, OutboundMessage, SendResult
from amends.comms.channels.email_message import build_email
from amends.comms.channels.sending import send_each, sent

__all__ = ["Outbox", "file_name", "from_settings"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_SUFFIXES = {"email": ".eml", "webhook": ".json"}


def file_name(idempotency_key: str, suffix: str) -> str:
    """The key itself when it is a safe file name; otherwise a cleaned key plus a digest of
    the original, so two keys that clean to the same text still get two files."""
    safe = _UNSAFE.sub("_", idempotency_key)[:120]
    if safe != idempotency_key or safe.startswith("."):
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
        safe = f"{safe.lstrip('.')}-{digest}"
    return safe + suffix


def render(message: OutboundMessage) -> bytes:
    if message.capability == "email":
        return build_email(message).message().as_bytes()
    if message.capability == "webhook":
        try:
            body: object = json.loads(message.text)
        except ValueError:
            body = message.text
        return json.dumps({"to": message.to, "body": body}, indent=2).encode()
    return f"To: {message.to}\nSubject: {message.subject}\n\n{message.text}\n".encode()


class Outbox:
    name = "outbox"

    def __init__(
        self,
        capability: str,
        directory: Path,
        *,
        rate_per_second: float = 0.0,  # local files: no provider limit (0 = unlimited)
        batch_size: int = 500,
    ) -> None:
        self.capability = capability
        self.directory = directory
        self.rate_per_second = rate_per_second
        self.batch_size = batch_size
        self._suffix = _SUFFIXES.get(capability, ".txt")

    def send_batch(self, messages: list[OutboundMessage]) -> list[SendResult]:
        return send_each(messages, self._write)

    def _write(self, message: OutboundMessage) -> SendResult:
        path = self.directory / file_name(message.idempotency_key, self._suffix)
        # Write then rename: a reader (or a second worker) never sees half a message.
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(render(message))
            partial.replace(path)
        except OSError as exc:
            raise ChannelError(f"outbox {self.directory} is not writable: {exc}") from exc
        return sent(message, path.name)


def from_settings(capability: str) -> Outbox:
    return Outbox(capability, Path(settings.DATA_DIR) / "outbox" / capability)
