"""The public consequential-loss claim form (under /claims/): no login, no customer data shown."""

from __future__ import annotations

from amends.remedy.views import claims

app_name = "claims"

urlpatterns = claims.public_urlpatterns
