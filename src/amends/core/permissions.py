"""View decorators that check the user's role (Django group)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from amends.core.roles import has_role

View = TypeVar("View", bound=Callable[..., HttpResponse])


def refusal(roles: Sequence[str]) -> str:
    """What the 403 page says: the roles that may, so the user knows what to ask for."""
    if not roles:
        return "This page needs a staff role, and your account has none."
    if len(roles) == 1:
        return f"This needs the {roles[0]} role, which your account does not have."
    return f"This needs one of the roles {', '.join(roles)}; your account has none of them."


def role_required(*roles: str) -> Callable[[View], View]:
    """Refuse (403) a logged-in user without one of ``roles``; with no roles, any staff role."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied(refusal(roles))
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
