from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "amends.core"
    verbose_name = "Amends core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from amends.core import checks  # noqa: F401  (registers the system checks)
        from amends.core.roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="amends-sync-roles")
