from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from amends.api.main import api
from amends.core import views as core_views
from amends.statuspage import customer_views

admin.site.site_header = "Amends administration"
admin.site.site_title = "Amends"

urlpatterns = [
    path("", core_views.console_home, name="console-home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("outages/", include("amends.outages.urls")),
    path("notices/", include("amends.comms.urls")),
    path("comms/", include("amends.comms.hook_urls")),
    path("status/", include("amends.statuspage.urls")),
    path("remedy/", include("amends.remedy.urls")),
    path("claims/", include("amends.remedy.public_urls")),
    # A customer's personal links in our messages (comms.links): no login, the token decides.
    path("u/<str:token>", customer_views.unsubscribe, name="customer-unsubscribe"),
    path("u/<str:token>/preferences", customer_views.preferences, name="customer-preferences"),
    path("survey/<str:token>/<int:notice_id>", customer_views.survey, name="survey"),
    path(
        "survey/<str:token>/<int:notice_id>/<int:score>",
        customer_views.survey_score,
        name="survey-score",
    ),
    path("c/", include("amends.remedy.credit_urls")),
]
