"""Staff roles are Django groups. The groups are created by a migration; their permissions are
kept in step with ``ROLE_PERMISSIONS`` after every migrate, as new apps add models.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q


class Role:
    VIEWER = "viewer"
    AGENT = "agent"
    COMMUNICATIONS = "communications"
    COMMANDER = "commander"
    REMEDIATION_ANALYST = "remediation analyst"
    APPROVER = "approver"
    ADMIN = "admin"

    ALL = (VIEWER, AGENT, COMMUNICATIONS, COMMANDER, REMEDIATION_ANALYST, APPROVER, ADMIN)


_READ_APPS = ("network", "core")

# role -> list of (app_label, permission codename prefix or full codename); "view" grants the
# view_* permissions of the app, "*" grants all of the app's permissions.
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    Role.VIEWER: [*((app, "view") for app in _READ_APPS), ("remedy", "view")],
    Role.AGENT: [(app, "view") for app in _READ_APPS],
    Role.COMMUNICATIONS: [(app, "view") for app in _READ_APPS],
    Role.COMMANDER: [(app, "view") for app in _READ_APPS],
    # Remedy tables change only through their services (the admin shows them read-only).
    Role.REMEDIATION_ANALYST: [
        *((app, "view") for app in _READ_APPS),
        ("remedy", "view"),
        ("remedy", "change"),
    ],
    Role.APPROVER: [
        *((app, "view") for app in _READ_APPS),
        ("remedy", "view"),
        ("remedy", "change"),
    ],
    Role.ADMIN: [("network", "*"), ("core", "view"), ("auth", "*")],
}


def _permissions_for(grants: list[tuple[str, str]]) -> Q:
    query = Q(pk__in=[])
    for app_label, grant in grants:
        if grant == "*":
            query |= Q(content_type__app_label=app_label)
        else:
            query |= Q(content_type__app_label=app_label, codename__startswith=f"{grant}_")
    return query


def sync_role_permissions(**signal_kwargs: Any) -> None:
    """Give each role group exactly the permissions ROLE_PERMISSIONS lists (idempotent).

    Also recreates a missing group: a database flush (as between transactional tests) removes
    the groups the migration made, and runs this afterwards.
    """
    for role, grants in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = set(
            Permission.objects.filter(_permissions_for(grants)).values_list("pk", flat=True)
        )
        if set(group.permissions.values_list("pk", flat=True)) != wanted:
            group.permissions.set(wanted)


def has_role(user: Any, *roles: str) -> bool:
    """True if the user is a superuser or belongs to one of ``roles`` (any role if none given)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    names = roles or Role.ALL
    return bool(user.groups.filter(name__in=names).exists())
