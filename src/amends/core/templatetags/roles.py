"""``{% load roles %}``: show a link only to the roles whose pages it opens."""

from __future__ import annotations

from typing import Any

from django import template

from amends.core.roles import has_role as _has_role

register = template.Library()


@register.filter
def has_role(user: Any, roles: str) -> bool:
    """``user|has_role:"approver,admin"``: one of the comma-separated roles (superusers too)."""
    return _has_role(user, *(role.strip() for role in roles.split(",") if role.strip()))
