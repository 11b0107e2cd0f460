from __future__ import annotations

from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "amends.comms"
    verbose_name = "Communications"

    def ready(self) -> None:
        from anymail.signals import tracking

        from amends.comms.hooks import anymail_tracking
        from amends.comms.tasks import wake_on_restoration
        from amends.outages.signals import windows_closed

        # Email receipts: anymail's webhook views (under /comms/anymail/) send this signal.
        tracking.connect(anymail_tracking, dispatch_uid="amends.comms.anymail_tracking")
        # Customers back: their out-of-date messages are superseded now, not at the recheck.
        windows_closed.connect(wake_on_restoration, dispatch_uid="amends.comms.restoration")
