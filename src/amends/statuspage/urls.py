"""``/status/``: the public site, the postcode lookup, subscriptions, and the staff console page."""

from __future__ import annotations

from django.urls import path

from amends.statuspage import subscribe_views, views

app_name = "statuspage"

urlpatterns = [
    path("", views.published, name="home"),
    path("lookup", views.lookup, name="lookup"),
    path("lookup/", views.lookup),
    # Subscriptions: the dynamic pages the static site links to (see subscribe_views).
    path("subscribe", subscribe_views.subscribe, name="subscribe"),
    path("confirm", subscribe_views.confirm_code, name="confirm-code"),
    path("confirm/<str:token>", subscribe_views.confirm_link, name="confirm"),
    path("unsubscribe/<str:token>", subscribe_views.unsubscribe, name="unsubscribe"),
    # Staff pages under the public prefix; no published file is named "console".
    path("console/", views.console, name="console"),
    path("console/publish/", views.publish_now, name="publish"),
    path("console/preview/", views.preview, name="preview"),
    path("console/preview/<path:path>", views.preview, name="preview-path"),
    path("<path:path>", views.published, name="file"),
]
