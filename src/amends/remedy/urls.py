"""Console pages for remediation (under /remedy/); the public claim form is in ``public_urls``."""

from __future__ import annotations

from amends.remedy.views import claims, payments, programs, report

app_name = "remedy"

urlpatterns = [
    *programs.urlpatterns,
    *payments.urlpatterns,
    *claims.urlpatterns,
    *report.urlpatterns,
]
