"""A customer's own pages, opened from the personal links in our messages (``comms.links``):
unsubscribe (``/u/<token>``), preferences (``/u/<token>/preferences``) and the survey
(``/survey/<token>/<notice>[/<score>]``). No login: the token is the whole authority, and the
pages show nothing of the account beyond the customer's own choices.

Unsubscribe follows RFC 8058: a mail client's ``List-Unsubscribe=One-Click`` POST carries no
cookie, so that one view is CSRF-exempt; a GET only shows the button, because link scanners
open every URL in an email. The preferences and comment forms are ordinary CSRF-protected
forms. A score link writes on GET on purpose (see ``comms.surveys``).
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from amends.comms import links, surveys
from amends.comms.models import SurveyResponse
from amends.comms.templating import LANGUAGES
from amends.core import urgent_help
from amends.core.errors import AmendsError
from amends.network import services as customers
from amends.network.models import Customer
from amends.statuspage.customer_strings import page_language, page_words
from amends.statuspage.pages import stylesheet
from amends.statuspage.strings import LANGUAGE_NAMES

CHANNEL_NAMES = {
    "email": "Email",
    "sms": "Text message (SMS)",
    "push": "App notification",
    "voice": "Phone call",
}


@cache
def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def _page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    *,
    customer: Customer | None = None,
) -> HttpResponse:
    """A customer's page, in their language when we ship its words (else English)."""
    language = page_language(customer.language if customer else None)
    score = getattr(context.get("response"), "score", None)
    site = {
        "css": mark_safe(stylesheet()),  # noqa: S308 - our own file, never input
        "operator": settings.AMENDS_OPERATOR_NAME,
        "help_line": settings.AMENDS_HELP_LINE,
        "urgent_help": urgent_help.for_messages(language)["urgent_help"],
        "status_url": settings.AMENDS_STATUSPAGE_URL,
        "lang": language,
        "t": page_words(language, help_line=settings.AMENDS_HELP_LINE, score=score),
    }
    response = render(
        request, f"statuspage/customer/{template}", {**site, **context}, status=status
    )
    response["Content-Security-Policy"] = _csp()
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    return response


def _bad_link(request: HttpRequest, error: AmendsError) -> HttpResponse:
    return _page(request, "bad_link.html", {"message": error.message}, status=error.status)


def _customer(token: str) -> Customer:
    customer = Customer.objects.filter(pk=links.customer_from_token(token)).first()
    if customer is None:
        raise AmendsError("this link is not one of ours, or it has expired", status=404)
    return customer


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what unsubscribing stops, and the button. POST (the button, or a mail client's
    RFC 8058 one-click request): unsubscribe at once."""
    try:
        customer = _customer(token)
    except AmendsError as error:
        return _bad_link(request, error)
    if request.method == "POST":
        how = "one-click" if request.POST.get("List-Unsubscribe") == "One-Click" else "page"
        customer = customers.customer_unsubscribe(customer_id=customer.pk, how=how)
    return _page(
        request,
        "unsubscribe.html",
        {
            "done": customer.unsubscribed_at is not None,
            "preferences_url": links.preferences_url(customer.pk),
        },
        customer=customer,
    )


def _languages() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES]


class PreferencesForm(forms.Form):
    consent = forms.MultipleChoiceField(
        label="Channels we may use",
        choices=list(CHANNEL_NAMES.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    first = forms.ChoiceField(label="Contact me first by", choices=list(CHANNEL_NAMES.items()))
    language = forms.ChoiceField(label="Language of our messages", choices=_languages)
    quiet_hours_start = forms.TimeField(
        label="Quiet hours start",
        required=False,
        help_text="Messages that can wait are held from this time (e.g. 21:00) until the "
        "end; urgent outage notices still come.",
    )
    quiet_hours_end = forms.TimeField(
        label="Quiet hours end", required=False, help_text="For example 07:30."
    )
    optional = forms.BooleanField(
        label="Send me apologies, surveys and other news I can do without", required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("quiet_hours_start"), data.get("quiet_hours_end")
        if (start is None) != (end is None) and "quiet_hours_start" not in self.errors:
            self.add_error(
                "quiet_hours_end" if end is None else "quiet_hours_start",
                "give both the start and the end of your quiet hours, or neither",
            )
        return data


def _initial(customer: Customer) -> dict[str, Any]:
    current = customers.customer_preferences(customer)
    return {
        "consent": sorted(current.consent),
        "first": current.channel_order[0],
        "language": customer.language.split("-")[0],
        "quiet_hours_start": current.quiet_hours_start,
        "quiet_hours_end": current.quiet_hours_end,
        "optional": customer.unsubscribed_at is None,
    }


def _save(customer: Customer, data: dict[str, Any]) -> None:
    current = customers.customer_preferences(customer)
    order = (data["first"], *(c for c in current.channel_order if c != data["first"]))
    customers.customer_set_preferences(
        customer_id=customer.pk,
        preferences=customers.Preferences(
            channel_order=order,
            consent=frozenset(data["consent"]),
            language=data["language"],
            quiet_hours_start=data["quiet_hours_start"],
            quiet_hours_end=data["quiet_hours_end"],
            time_zone=current.time_zone,
        ),
    )
    if data["optional"]:
        customers.customer_resubscribe(customer_id=customer.pk)
    else:
        customers.customer_unsubscribe(customer_id=customer.pk, how="preferences")


@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the customer's current choices. POST: save them, or name each wrong field and
    change nothing."""
    try:
        customer = _customer(token)
    except AmendsError as error:
        return _bad_link(request, error)
    saved = False
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            _save(customer, form.cleaned_data)
            customer.refresh_from_db()
            form, saved = PreferencesForm(initial=_initial(customer)), True
    else:
        form = PreferencesForm(initial=_initial(customer))
    context = {
        "form": form,
        "saved": saved,
        "fields": [
            form[name] for name in ("first", "language", "quiet_hours_start", "quiet_hours_end")
        ],
    }
    return _page(request, "preferences.html", context, status=400 if form.errors else 200)


def _survey_page(
    request: HttpRequest,
    token: str,
    notice_id: int,
    response: SurveyResponse | None,
    *,
    customer: Customer,
    commented: bool = False,
    error: str = "",
) -> HttpResponse:
    base = f"{settings.SITE_URL}/survey/{token}/{notice_id}"
    context = {
        "response": response,
        "scores": [(score, f"{base}/{score}") for score in links.SCORES],
        "comment_url": base,
        "commented": commented,
        "error": error,
    }
    return _page(request, "survey.html", context, status=400 if error else 200, customer=customer)


@require_http_methods(["GET", "HEAD", "POST"])
def survey(request: HttpRequest, token: str, notice_id: int) -> HttpResponse:
    """GET: the score links (the SMS and push link here). POST: the optional comment."""
    try:
        customer = _customer(token)
        response = SurveyResponse.objects.filter(notice_id=notice_id, customer=customer).first()
        if request.method == "POST":
            response = surveys.survey_comment(
                notice_id=notice_id,
                customer_id=customer.pk,
                comment=request.POST.get("comment", ""),
            )
            return _survey_page(
                request, token, notice_id, response, customer=customer, commented=True
            )
        if response is None:
            surveys.check_sent(notice_id, customer.pk)
    except AmendsError as error:
        if error.field == "comment":
            return _survey_page(
                request,
                token,
                notice_id,
                response,
                customer=customer,
                error=f"Comment: {error.message}",
            )
        return _bad_link(request, error)
    return _survey_page(request, token, notice_id, response, customer=customer)


@require_http_methods(["GET", "HEAD"])
def survey_score(request: HttpRequest, token: str, notice_id: int, score: int) -> HttpResponse:
    """One click records the score (or changes it), then thanks them and offers a comment.
    A HEAD (a link checker) only looks."""
    if request.method == "HEAD":
        return survey(request, token, notice_id)
    try:
        customer = _customer(token)
        response = surveys.survey_answer(notice_id=notice_id, customer_id=customer.pk, score=score)
    except AmendsError as error:
        return _bad_link(request, error)
    return _survey_page(request, token, notice_id, response, customer=customer)
