"""Who is calling: a bearer API token, or a signed-in staff member's session (console)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from amends.core.errors import AmendsError
from amends.core.roles import has_role
from amends.core.tokens import authenticate


class Forbidden(AmendsError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=403)


@dataclass(frozen=True)
class Caller:
    """The authenticated party: the user it acts as and the scopes it holds."""

    user: User
    scopes: frozenset[str] | None  # None: a session, limited by roles only
    label: str

    def require(self, scope: str, *roles: str) -> None:
        """Refuse (403) unless the caller holds ``scope`` and its user one of ``roles``."""
        if self.scopes is not None and scope not in self.scopes:
            raise Forbidden(f"this token lacks the {scope!r} scope")
        if not has_role(self.user, *roles):
            raise Forbidden("your account has no role that may do this")


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        found = authenticate(token)
        if found is None:
            return None
        return Caller(found.user, found.scope_set, f"token:{found.name}")


class StaffSession(SessionAuth):
    """The console's own session (CSRF-checked for writes by django-ninja)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if not isinstance(user, User):
            return None
        return Caller(user, None, user.get_username())


def caller(request: HttpRequest) -> Caller:
    auth = request.auth  # type: ignore[attr-defined]
    assert isinstance(auth, Caller)
    return auth
