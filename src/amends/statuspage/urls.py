"""``/status/``: the public site, the postcode lookup, and the staff console page."""

from __future__ import annotations

from django.urls import path

from amends.statuspage import views

app_name = "statuspage"

urlpatterns = [
    path("", views.published, name="home"),
    path("lookup", views.lookup, name="lookup"),
    path("lookup/", views.lookup),
    # Staff pages under the public prefix; no published file is named "console".
    path("console/", views.console, name="console"),
    path("console/publish/", views.publish_now, name="publish"),
    path("console/preview/", views.preview, name="preview"),
    path("console/preview/<path:path>", views.preview, name="preview-path"),
    path("<path:path>", views.published, name="file"),
]
