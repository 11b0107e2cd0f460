"""System checks for settings that are dangerous in production (ids amends.E0xx / W0xx)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def _public_hosts() -> set[str]:
    return set(settings.ALLOWED_HOSTS) - _LOCAL_HOSTS


@register("security", deploy=False)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    public = _public_hosts()
    if settings.DEBUG and public:
        problems.append(
            Error(
                "DEBUG is on while ALLOWED_HOSTS names public hosts: error pages would show "
                "customer data and settings to anyone.",
                hint="Unset DEBUG in production.",
                id="amends.E001",
            )
        )
    if "*" in settings.ALLOWED_HOSTS and not settings.DEBUG:
        problems.append(
            Warning(
                "ALLOWED_HOSTS contains '*': any Host header is accepted.",
                hint="List the host names the console is served under.",
                id="amends.W001",
            )
        )
    if public and settings.SECRET_KEY_GENERATED:
        problems.append(
            Warning(
                "SECRET_KEY was generated on this machine: sessions and signed links break when "
                "another worker or machine generates a different one.",
                hint="Set SECRET_KEY or SECRET_KEY_FILE to the same value on every machine.",
                id="amends.W002",
            )
        )
    if public and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "Serving public hosts from the embedded SQLite database.",
                hint="Set DATABASE_URL to PostgreSQL to run several workers and machines.",
                id="amends.W003",
            )
        )
    if public and not settings.SESSION_COOKIE_SECURE:
        problems.append(
            Warning(
                "Session cookies are sent over plain HTTP.",
                hint="Serve over HTTPS and set AMENDS_SITE_URL=https://… (or SECURE_COOKIES=true).",
                id="amends.W004",
            )
        )
    return problems
