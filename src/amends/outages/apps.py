from __future__ import annotations

from django.apps import AppConfig


class OutagesConfig(AppConfig):
    name = "amends.outages"
    verbose_name = "Outages"
