"""Writes owned by core: staff accounts and their roles."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import transaction

from amends.core import audit
from amends.core.roles import Role


def staff_user_set(
    *, actor: audit.Actor, username: str, role: str, password: str, email: str = ""
) -> User:
    """Create or reset a staff account holding exactly one role (the admin role is superuser)."""
    if role not in Role.ALL:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(Role.ALL)}")
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=username)
        before = None if created else {"role": list(user.groups.values_list("name", flat=True))}
        user.email = email
        user.is_staff = True
        user.is_superuser = role == Role.ADMIN
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        audit.record(
            actor,
            "core.staff_user_set",
            user,
            before=before,
            after={"role": [role], "email": email},
        )
    return user
