from __future__ import annotations

from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "amends.comms"
    verbose_name = "Communications"

    def ready(self) -> None:
        from anymail.signals import tracking

        from amends.comms.hooks import anymail_tracking

        # Email receipts: anymail's webhook views (under /comms/anymail/) send this signal.
        tracking.connect(anymail_tracking, dispatch_uid="amends.comms.anymail_tracking")
