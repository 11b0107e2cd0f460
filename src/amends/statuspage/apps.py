from __future__ import annotations

from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    name = "amends.statuspage"
    verbose_name = "Public status page"

    def ready(self) -> None:
        from amends.statuspage import checks  # noqa: F401  (registers the system checks)
