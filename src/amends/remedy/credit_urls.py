"""A customer's own credit explanation (under /c/): no login, the link's token is the key."""

from __future__ import annotations

from amends.remedy.views import credit_page

app_name = "credit"

urlpatterns = credit_page.urlpatterns
