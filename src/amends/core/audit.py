"""The audit log: ``record()`` appends, ``verify()`` checks the hash chain.

Every service function that changes a table calls ``record()`` inside its transaction, so the
change and its audit entry commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from amends.core.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64

Actor = AbstractBaseUser | AnonymousUser | str | None


def actor_name(actor: Actor) -> str:
    """How an actor is written in the log and timelines."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    if not actor.is_authenticated:
        return "anonymous"
    return str(actor.get_username())


def _json_safe(value: Any) -> Any:
    """Round-trip through JSON so what we hash is exactly what the database stores."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def entry_hash(
    *,
    seq: int,
    at: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    before: Any,
    after: Any,
    prev_hash: str,
) -> str:
    payload = json.dumps(
        [seq, at, actor, action, object_type, object_id, before, after, prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _object_ref(obj: models.Model | tuple[str, str] | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    if isinstance(obj, tuple):
        return obj
    return obj._meta.label_lower, str(obj.pk)


def record(
    actor: Actor,
    action: str,
    obj: models.Model | tuple[str, str] | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry. ``obj`` is a model instance or an ``(object_type, object_id)`` pair."""
    object_type, object_id = _object_ref(obj)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS_HASH}
        )
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            "at": timezone.now(),
            "actor": actor_name(actor)[:150],
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "before": _json_safe(before),
            "after": _json_safe(after),
            "prev_hash": head.hash,
        }
        digest = entry_hash(**{**fields, "at": fields["at"].isoformat()})
        entry = AuditEntry.objects.create(**fields, hash=digest)
        AuditHead.objects.filter(pk=1).update(seq=entry.seq, hash=digest)
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def verify(batch_size: int = 5000) -> Iterator[ChainProblem]:
    """Yield every place where the stored chain does not match its contents."""
    expected_seq, prev_hash = 1, GENESIS_HASH
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            yield ChainProblem(entry.seq, f"entries {expected_seq}..{entry.seq - 1} are missing")
        if entry.prev_hash != prev_hash:
            yield ChainProblem(entry.seq, "prev_hash does not match the previous entry's hash")
        recomputed = entry_hash(
            seq=entry.seq,
            at=entry.at.isoformat(),
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            before=entry.before,
            after=entry.after,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.hash:
            yield ChainProblem(entry.seq, "contents were changed after they were written")
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    head = AuditHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        yield ChainProblem(head.seq, f"the chain ends at #{last_seq} but its head says #{head.seq}")
