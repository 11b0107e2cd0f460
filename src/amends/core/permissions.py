"""View decorators that check the user's role (Django group)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from amends.core.roles import has_role

View = TypeVar("View", bound=Callable[..., HttpResponse])


def role_required(*roles: str) -> Callable[[View], View]:
    """Refuse (403) a logged-in user without one of ``roles``; with no roles, any staff role."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied("Your account has no role that may open this page.")
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
