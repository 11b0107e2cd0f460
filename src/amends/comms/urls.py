from __future__ import annotations

from django.urls import path

from amends.comms import template_views, views

app_name = "comms"

_TEMPLATE = "templates/<slug:kind>/<slug:channel>/<str:language>/"

urlpatterns = [
    path("", views.notice_list, name="list"),
    path("new/", views.notice_new, name="new"),
    path("<int:notice_id>/", views.notice_detail, name="detail"),
    path("<int:notice_id>/dashboard/", views.notice_dashboard, name="dashboard"),
    path("<int:notice_id>/submit/", views.notice_submit, name="submit"),
    path("<int:notice_id>/approve/", views.notice_approve, name="approve"),
    path("<int:notice_id>/cancel/", views.notice_cancel, name="cancel"),
    path("<int:notice_id>/retry/", views.notice_retry, name="retry"),
    path("templates/", template_views.template_list, name="templates"),
    path("templates/open/", template_views.template_open, name="template-open"),
    path(_TEMPLATE, template_views.template_edit, name="template"),
    path(f"{_TEMPLATE}preview/", template_views.template_preview, name="template-preview"),
]
