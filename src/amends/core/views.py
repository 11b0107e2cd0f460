"""The staff console's home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from amends.core.permissions import role_required
from amends.network import queries as network_queries
from amends.outages import queries as outage_queries
from amends.remedy import queries as remedy_queries


@login_required
@role_required()
def console_home(request: HttpRequest) -> HttpResponse:
    open_outages = outage_queries.open_outages().order_by("-started_at")
    counts = {**network_queries.headline_counts(), "open_outages": open_outages.count()}
    return render(
        request,
        "core/home.html",
        {
            "counts": counts,
            "outages": open_outages[:10],
            "programs": remedy_queries.open_programs()[:10],
            "claims": remedy_queries.claim_queue(),
        },
    )
