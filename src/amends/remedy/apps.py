from __future__ import annotations

from django.apps import AppConfig


class RemedyConfig(AppConfig):
    name = "amends.remedy"
    verbose_name = "Remediation"

    def ready(self) -> None:
        from amends.comms import audience_providers, context_providers
        from amends.remedy.services.credit_notices import (
            CREDIT_AUDIENCE,
            credit_audience,
            credit_context,
            describe_credit_audiences,
        )

        # "Credit applied" messages carry each customer's own amount and explanation …
        context_providers.register("remedy.credit", credit_context)
        # … and go to the customers whose payouts the notice tells, however many.
        audience_providers.register(CREDIT_AUDIENCE, credit_audience, describe_credit_audiences)
