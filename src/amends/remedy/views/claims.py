"""Claims: the public claim form (``public_urlpatterns``, mounted at ``/claims/``); the
assessment queue in the console (``urlpatterns``, under ``/remedy/``) is in ``claim_console``.

The public pages need no login and no JavaScript, share the status page's look, and never say
anything about an account beyond "we could not match these details".
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.resources import files
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from amends.core.errors import AmendsError
from amends.core.http import client_ip
from amends.remedy.services import claims
from amends.remedy.views import claim_console
from amends.remedy.views.claim_forms import ClaimForm
from amends.statuspage.pages import stylesheet

RECEIVED_KEY = "claim_reference"  # the session remembers the claimant's own reference
FORM_OVERHEAD_BYTES = 1024 * 1024  # the text fields of a claim, generously
TOO_LARGE = (
    "Your files are too large together. Attach at most {files} files of at most {mb} MB each, "
    "and send the form again."
)
TOO_MANY = (
    "We have received many claims from your connection in the last hour. Please try again "
    "later, or call us on {help_line}."
)


@cache
def public_css() -> str:
    """The status page's stylesheet plus what a form with more fields needs."""
    extra = files("amends.remedy") / "templates" / "remedy" / "claims" / "public.css"
    return stylesheet() + extra.read_text(encoding="utf-8").replace("\n", "")


@cache
def public_csp() -> str:
    """No script at all; only our own inline stylesheet (by its hash); posts only to us."""
    digest = base64.b64encode(hashlib.sha256(public_css().encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def _public_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    site = {
        "css": mark_safe(public_css()),  # noqa: S308 - our own files, never input
        "operator": settings.AMENDS_OPERATOR_NAME,
        "help_line": settings.AMENDS_HELP_LINE,
        "urgent_help": settings.AMENDS_URGENT_HELP,
        "status_url": settings.AMENDS_STATUSPAGE_URL,
    }
    response = render(request, template, {**site, **context}, status=status)
    response["Content-Security-Policy"] = public_csp()
    response["Cache-Control"] = "no-store"
    return response


def _form_page(
    request: HttpRequest, form: ClaimForm, *, refusal: str = "", status: int = 200
) -> HttpResponse:
    form.describe_errors()
    context = {
        "form": form,
        "refusal": refusal,
        "has_outages": form.fields["outage"].queryset.exists(),  # type: ignore[attr-defined]
        "outage_days": settings.AMENDS_CLAIM_OUTAGE_DAYS,
    }
    return _public_page(request, "remedy/claims/form.html", context, status)


def _body_limit() -> int:
    return settings.AMENDS_CLAIM_MAX_FILES * claims.max_file_bytes() + FORM_OVERHEAD_BYTES


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt  # checked by _submit, after the size and rate checks: see claim_form
@require_http_methods(["GET", "POST"])
def claim_form(request: HttpRequest) -> HttpResponse:
    """The claim form. A submission too large in total, or over the client's hourly limit, is
    refused before its body is read (Django's documented pattern for a view that must act
    before the upload is parsed: exempt here, ``csrf_protect`` on the part that reads it)."""
    if request.method == "GET":
        return _form_page(request, ClaimForm())
    if _declared_length(request) > _body_limit():
        refusal = TOO_LARGE.format(
            files=settings.AMENDS_CLAIM_MAX_FILES, mb=settings.AMENDS_CLAIM_MAX_FILE_MB
        )
        return _form_page(request, ClaimForm(), refusal=refusal, status=413)
    if not claims.claim_attempt_allow(client_address=client_ip(request)):
        refusal = TOO_MANY.format(help_line=settings.AMENDS_HELP_LINE)
        response = _form_page(request, ClaimForm(), refusal=refusal, status=429)
        response["Retry-After"] = str(int(claims.RATE_WINDOW.total_seconds()))
        return response
    return _submit(request)


@csrf_protect
def _submit(request: HttpRequest) -> HttpResponse:
    form = ClaimForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            claim = claims.claim_submit(
                details=form.details(), evidence=form.cleaned_data["evidence"]
            )
        except AmendsError as exc:
            form.add_amends_error(exc)
        else:
            request.session[RECEIVED_KEY] = claim.reference
            return redirect("claims:received")
    return _form_page(request, form, status=400)


@require_GET
def claim_received(request: HttpRequest) -> HttpResponse:
    """The answer page, from the session: a claim's reference is never in a public URL."""
    reference = request.session.get(RECEIVED_KEY)
    if not reference:
        return redirect("claims:form")
    return _public_page(request, "remedy/claims/received.html", {"reference": reference})


public_urlpatterns = [
    path("", claim_form, name="form"),
    path("received/", claim_received, name="received"),
]

urlpatterns = claim_console.urlpatterns
