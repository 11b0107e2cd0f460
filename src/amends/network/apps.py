from __future__ import annotations

from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "amends.network"
    verbose_name = "Customers, services and network"
