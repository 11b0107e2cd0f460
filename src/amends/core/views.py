"""The staff console's home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from amends.core.permissions import role_required
from amends.network import queries as network_queries


@login_required
@role_required()
def console_home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"counts": network_queries.headline_counts()})
