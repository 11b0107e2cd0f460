"""The status page's one dynamic corner: subscribe, confirm and unsubscribe.

Why a two-step form rather than a form on the static pages: the published pages are files,
rendered once and served for days by us, nginx or a CDN, so they cannot carry a per-visitor
CSRF token, and a signed token baked in at publish time would expire on a page that is still
being served (or be valid for as long as the page lives, which is no protection at all). The
static pages therefore only *link* here (``/status/subscribe?postcode=2000``); this page is
rendered per request with Django's own CSRF token and cookie, and the POST is checked by
Django's CSRF middleware like any console form. It works without JavaScript.

The confirmation and unsubscribe links carry their own secret token, which is the whole
authority for the action, so their POSTs are CSRF-exempt (a mail client's RFC 8058 one-click
``List-Unsubscribe=One-Click`` POST has no cookie). GET only shows a page with a button:
link scanners that open every URL in an email must not confirm or unsubscribe anyone.

Every answer to a subscribe request is the same page, whether the address was new, pending or
already confirmed: the form must not tell anyone who is subscribed. Requests are rate-limited
per client address, confirmations per subscriber address (see ``comms.subscribers``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from amends.comms import subscribers
from amends.comms.models import Capability, Subscriber, SubscriberStatus, SubscriptionTopic
from amends.comms.subscriber_messages import topic_words
from amends.core.errors import AmendsError
from amends.core.http import client_ip
from amends.network.models import ProductKind, State
from amends.statuspage import pages
from amends.statuspage.strings import LANGUAGE_NAMES, LANGUAGES, Strings, language_or_default
from amends.statuspage.views import site_info

FORM_FIELDS = ("channel", "email", "phone", "webhook", "topic", "postcode", "state", "product")


def _page(
    request: HttpRequest, template: str, language: str, *, status: int = 200, **context: Any
) -> HttpResponse:
    here = request.path
    html = pages.render(
        template,
        language=language,
        site=site_info(),
        root=settings.AMENDS_STATUSPAGE_URL,
        alternates=[(code, LANGUAGE_NAMES[code], f"{here}?lang={code}") for code in LANGUAGES],
        csrf_token=get_token(request),
        **context,
    )
    response = HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _answer(
    request: HttpRequest,
    language: str,
    *,
    heading: str,
    text: str,
    button: str = "",
    ok: bool = True,
    again: str = "",
    status: int = 200,
) -> HttpResponse:
    """A one-message page; with a ``button``, a form that POSTs back to the same URL."""
    return _page(
        request,
        "subscription.html",
        language,
        status=status,
        heading=heading,
        text=text,
        button=button,
        ok=ok,
        again=again,
    )


def _language(request: HttpRequest) -> str:
    return language_or_default(request.POST.get("lang") or request.GET.get("lang"))


def _too_many(request: HttpRequest, language: str) -> HttpResponse:
    t = Strings(language)
    response = _answer(
        request, language, heading=t.subscribe_title, text=t.sub_too_many, ok=False, status=429
    )
    response["Retry-After"] = "600"
    return response


def _form_page(
    request: HttpRequest, language: str, form: dict[str, str], errors: dict[str, str]
) -> HttpResponse:
    return _page(
        request,
        "subscribe.html",
        language,
        status=400 if errors else 200,
        action=f"{request.path}?lang={language}",
        form=form,
        errors=errors,
        states=State.values,
        kinds=ProductKind.values,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    )


def _initial_form(request: HttpRequest, language: str) -> dict[str, str]:
    """The blank form, with a topic already chosen when a page linked here with one."""
    form = dict.fromkeys(FORM_FIELDS, "")
    form.update(channel=Capability.EMAIL, topic=SubscriptionTopic.POSTCODE, language=language)
    for topic in (SubscriptionTopic.STATE, SubscriptionTopic.PRODUCT, SubscriptionTopic.POSTCODE):
        value = request.GET.get(topic, "").strip()[:12]
        if value:
            form[topic] = value
            form["topic"] = topic
    return form


def _posted_form(request: HttpRequest) -> dict[str, str]:
    form = {name: request.POST.get(name, "").strip()[:300] for name in FORM_FIELDS}
    form["language"] = request.POST.get("language", "")
    return form


def _check(form: dict[str, str]) -> tuple[subscribers.SubscriptionRequest | None, dict[str, str]]:
    channel, topic = form["channel"], form["topic"]
    try:
        checked = subscribers.check_request(
            channel=channel,
            address=form.get(subscribers.ADDRESS_FIELDS.get(channel, ""), ""),
            topic=topic,
            value=form.get(subscribers.TOPIC_FIELDS.get(topic, ""), ""),
            language=form["language"],
        )
    except subscribers.RequestProblems as problems:
        return None, problems.problems
    return checked, {}


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: check it; the form again with each wrong field named, or the
    same "check your messages" page whatever the address's state."""
    language = _language(request)
    t = Strings(language)
    if request.method != "POST":
        return _form_page(request, language, _initial_form(request, language), {})
    if not subscribers.within_rate(
        "ip", client_ip(request), per_hour=settings.AMENDS_SUBSCRIBE_REQUESTS_PER_HOUR
    ):
        return _too_many(request, language)
    form = _posted_form(request)
    checked, problems = _check(form)
    if checked is None:
        errors = {field: t(f"err_{field}") for field in problems}
        return _form_page(request, language, form, errors)
    subscribers.subscriber_request(request=checked)
    return _sent_page(request, language, phone=form["phone"] if checked.channel == "sms" else "")


def _sent_page(
    request: HttpRequest, language: str, *, phone: str = "", errors: dict[str, str] | None = None
) -> HttpResponse:
    return _page(
        request,
        "subscribe_sent.html",
        language,
        status=400 if errors else 200,
        code_action=f"{settings.SITE_URL}/status/confirm",
        phone=phone,
        errors=errors or {},
    )


def masked(subscriber: Subscriber) -> str:
    """The address, recognisable to its owner but not copyable from a forwarded link."""
    address = subscriber.address
    if subscriber.channel == Capability.EMAIL:
        local, _, domain = address.partition("@")
        return f"{local[:1]}…@{domain}"
    if subscriber.channel == Capability.SMS:
        return f"…{address[-3:]}"
    return address.split("//", 1)[-1].split("/", 1)[0]


def _expired(request: HttpRequest, language: str, heading: str) -> HttpResponse:
    return _answer(
        request,
        language,
        heading=heading,
        text=Strings(language).sub_bad_link,
        ok=False,
        again=f"{settings.SITE_URL}/status/subscribe?lang={language}",
        status=404,
    )


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def confirm_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with a Confirm button (for the subscriber's own language). POST: confirm."""
    language = _language(request)
    t = Strings(language)
    try:
        if request.method == "POST":
            subscriber = subscribers.subscriber_confirm(token=token)
        else:
            subscriber = subscribers.subscriber_by_confirm_token(token)
    except AmendsError:
        return _expired(request, language, t.sub_confirm_title)
    words = {"address": masked(subscriber), "topic": topic_words(subscriber, language)}
    if request.method == "POST" or subscriber.status != SubscriberStatus.PENDING:
        return _answer(
            request, language, heading=t.sub_confirmed_title, text=t("sub_confirmed", **words)
        )
    return _answer(
        request,
        language,
        heading=t.sub_confirm_title,
        text=t("sub_confirm_text", **words),
        button=t.sub_confirm_button,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def confirm_code(request: HttpRequest) -> HttpResponse:
    """The SMS code form (GET) and its check (POST, rate-limited per client like subscribe)."""
    language = _language(request)
    t = Strings(language)
    if request.method != "POST":
        return _sent_page(request, language)
    if not subscribers.within_rate(
        "ip", client_ip(request), per_hour=settings.AMENDS_SUBSCRIBE_REQUESTS_PER_HOUR
    ):
        return _too_many(request, language)
    phone = request.POST.get("phone", "").strip()[:40]
    try:
        confirmed = subscribers.subscriber_confirm_code(
            phone=phone, code=request.POST.get("code", "")[:12]
        )
    except AmendsError as error:
        field = "phone" if error.field == "phone" else "code"
        return _sent_page(request, language, phone=phone, errors={field: t(f"err_{field}")})
    topics = t.list_sep.join(topic_words(s, language) for s in confirmed)
    text = t("sub_confirmed", address=masked(confirmed[0]), topic=topics)
    return _answer(request, language, heading=t.sub_confirmed_title, text=text)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with an Unsubscribe button. POST (the button, or a mail client's RFC 8058
    one-click request): every subscription of that address ends."""
    language = _language(request)
    t = Strings(language)
    try:
        if request.method == "POST":
            subscriber = subscribers.subscriber_unsubscribe(token=token)
        else:
            subscriber = subscribers.subscriber_by_unsubscribe_token(token)
    except AmendsError:
        return _expired(request, language, t.sub_unsub_title)
    address = masked(subscriber)
    if request.method == "POST" or subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return _answer(
            request,
            language,
            heading=t.sub_unsubscribed_title,
            text=t("sub_unsubscribed", address=address),
        )
    return _answer(
        request,
        language,
        heading=t.sub_unsub_title,
        text=t("sub_unsub_text", address=address),
        button=t.sub_unsub_button,
    )
