from __future__ import annotations

from django.apps import AppConfig


class RemedyConfig(AppConfig):
    name = "amends.remedy"
    verbose_name = "Remediation"

    def ready(self) -> None:
        from amends.comms.context_providers import register
        from amends.remedy.services.credit_notices import credit_context

        # "Credit applied" messages carry each customer's own amount and explanation.
        register("remedy.credit", credit_context)
