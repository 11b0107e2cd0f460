"""API tokens: created once (the plain token is shown then and never stored), checked by hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError, NotFound
from amends.core.models import ApiToken

# outages:* covers outages and notices; remedy:* remediation programs, payments, claims and
# reports; intake the alert and inbound-SMS webhooks.
SCOPES = ("outages:read", "outages:write", "remedy:read", "remedy:write", "intake")
TOKEN_PREFIX = "amd_"  # noqa: S105 (marks an Amends token in logs and secret scanners)
_LAST_USED_RESOLUTION = timedelta(minutes=5)  # don't write on every request


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_create(
    *, actor: audit.Actor, name: str, username: str, scopes: list[str]
) -> tuple[ApiToken, str]:
    """Create a token; returns it and the plain token, which is shown only this once."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise AmendsError(f"scopes must be among {', '.join(SCOPES)}", field="scopes")
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"no user {username!r}", field="user")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            name=name,
            prefix=plain[:10],
            token_hash=_digest(plain),
            scopes=" ".join(sorted(set(scopes))),
            user=user,
        )
        audit.record(
            actor,
            "core.token_create",
            token,
            after={"name": name, "user": username, "scopes": token.scopes},
        )
    return token, plain


def token_revoke(*, actor: audit.Actor, prefix: str) -> ApiToken:
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update()
            .filter(prefix=prefix, revoked_at__isnull=True)
            .first()
        )
        if token is None:
            raise NotFound(f"no active token starting {prefix!r}", field="prefix")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor, "core.token_revoke", token, after={"name": token.name})
    return token


def authenticate(plain: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_digest(plain), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
