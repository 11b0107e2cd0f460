from __future__ import annotations

from django.urls import path

from amends.outages import views

app_name = "outages"

urlpatterns = [
    path("", views.outage_list, name="list"),
    path("declare/", views.outage_declare, name="declare"),
    path("preview/", views.outage_preview, name="preview"),
    path("<str:reference>/", views.outage_detail, name="detail"),
    path("<str:reference>/status/", views.outage_transition, name="transition"),
    path("<str:reference>/etr/", views.outage_set_etr, name="etr"),
    path("<str:reference>/updates/", views.outage_post_update, name="update"),
    path("<str:reference>/restore/", views.outage_restore, name="restore"),
    path(
        "<str:reference>/still-out/<int:report_id>/",
        views.still_out_handle,
        name="still-out-handle",
    ),
    path("<str:reference>/scope/", views.outage_add_scope, name="scope-add"),
    path(
        "<str:reference>/translations/<str:language>/",
        views.outage_translate,
        name="translate",
    ),
    path(
        "<str:reference>/scope/<int:item_id>/remove/",
        views.outage_remove_scope,
        name="scope-remove",
    ),
]
