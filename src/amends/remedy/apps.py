from __future__ import annotations

from django.apps import AppConfig


class RemedyConfig(AppConfig):
    name = "amends.remedy"
    verbose_name = "Remediation"
