"""The public site under ``/status/`` (published files and the area lookup) and the staff
console page: publications and "publish now", subscribers, their messages and social posts.

Public views never read the database: they answer from the published directory, so the page
keeps working (and scales like static files) while the database is busy or down. The one
exception is the very first request on a fresh install, which publishes once.
"""

from __future__ import annotations

import hashlib
import logging
import time
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    HttpResponsePermanentRedirect,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST, require_safe

from amends.core.permissions import role_required
from amends.core.roles import Role, has_role
from amends.statuspage import area_lookup, console_queries, pages, publish, serving
from amends.statuspage.models import Publication, PublicationStatus
from amends.statuspage.queries import site_snapshot
from amends.statuspage.site import site_files
from amends.statuspage.strings import LANGUAGES, Strings, language_or_default

logger = logging.getLogger(__name__)

PUBLISHERS = (Role.COMMANDER, Role.COMMUNICATIONS, Role.ADMIN)


def _not_ready() -> HttpResponse:
    text = " ".join(Strings(code).not_published for code in LANGUAGES)
    response = HttpResponse(
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>Status</title><p>{text}',
        status=503,
    )
    response["Retry-After"] = "10"
    response["Cache-Control"] = "no-store"
    return response


_FIRST_PUBLISH_RETRY_SECONDS = 60.0
_first_publish_tried_at: float | None = None


def _first_publish() -> serving.Version | None:
    """Publish once when nothing has been published yet (a fresh install). A request that
    finds another publish running gets the "being prepared" page instead of waiting, and a
    failing publish is retried at most once a minute per process, so a broken install cannot
    turn every public request into a render."""
    global _first_publish_tried_at
    now = time.monotonic()
    if _first_publish_tried_at is not None and now - _first_publish_tried_at < (
        _FIRST_PUBLISH_RETRY_SECONDS
    ):
        return None
    root = publish.default_root()
    try:
        with publish.publish_lock(root, wait=False):
            pass
    except publish.PublishBusy:
        return None
    _first_publish_tried_at = now
    if publish.publish_site(trigger="first-request").status != PublicationStatus.SUCCEEDED:
        return None
    _first_publish_tried_at = None
    return serving.current_version()


@require_safe
def published(request: HttpRequest, path: str = "") -> HttpResponseBase:
    version = serving.current_version() or _first_publish()
    if version is None:
        return _not_ready()
    served, directory = serving.resolve(version, path)
    if directory is not None:
        return HttpResponsePermanentRedirect(f"{request.path}/")
    if served is not None:
        response = serving.file_response(request, version, served)
        if served.endswith("banner.html"):  # made to be framed by other sites
            response.xframe_options_exempt = True  # type: ignore[attr-defined]
        return response
    if "404.html" in version.manifest:
        return serving.file_response(request, version, "404.html", status=404)
    return HttpResponseNotFound("Not found", content_type="text/plain")


def site_info() -> SimpleNamespace:
    return SimpleNamespace(
        operator=settings.AMENDS_OPERATOR_NAME,
        help_line=settings.AMENDS_HELP_LINE,
        urgent_help=settings.AMENDS_URGENT_HELP,
    )


@require_safe
def lookup(request: HttpRequest) -> HttpResponse:
    """``?postcode=2000`` or ``?locality=Parramatta[&state=NSW]`` (``&lang=zh``): answered from
    the current version's index files (see ``area_lookup``); a place or postcode with no
    outage is a friendly "no known outages", a malformed question a 400 page."""
    language = language_or_default(request.GET.get("lang"))
    question = area_lookup.read_question(request.GET)
    result = None
    if question is not None and not question.errors:
        version = serving.current_version() or _first_publish()
        if version is None:
            return _not_ready()
        result = area_lookup.answer(version, question)
    html = pages.lookup_page(
        site=site_info(), language=language, question=question, result=result
    ).encode()
    etag = hashlib.sha256(html).hexdigest()[:32]
    status = 400 if question is not None and question.errors else 200
    return serving.content_response(request, html, etag, status=status)


@login_required
@role_required()
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    publications = list(Publication.objects.all()[:20])
    last_success = Publication.objects.filter(status=PublicationStatus.SUCCEEDED).first()
    version = serving.current_version()
    subscribers = console_queries.subscriber_counts()
    return render(
        request,
        "statuspage/console.html",
        {
            "publications": publications,
            "latest": publications[0] if publications else None,
            "last_success": last_success,
            "serving": version.directory.name if version else "",
            "root": publish.default_root(),
            "keep": settings.AMENDS_STATUSPAGE_KEEP,
            "public_url": settings.AMENDS_STATUSPAGE_URL,
            "can_publish": has_role(request.user, *PUBLISHERS),
            "queued": any(p.status == PublicationStatus.QUEUED for p in publications),
            "subscribers": subscribers,
            "subscriber_tables": [
                ("Subscriptions by channel", "Channel", subscribers.by_channel),
                ("Subscriptions by what they are about", "About", subscribers.by_topic),
            ],
            "notices": console_queries.recent_subscriber_notices(),
            "posts": console_queries.recent_social_posts(),
            "social_accounts": len(settings.AMENDS_SOCIAL_URLS),
        },
    )


@login_required
@role_required(*PUBLISHERS)
@require_POST
def publish_now(request: HttpRequest) -> HttpResponse:
    """Publish in this request: it works with no task worker running, and says how it went."""
    publication = publish.publish_site(trigger="console", actor=str(request.user.get_username()))
    if publication.status == PublicationStatus.SUCCEEDED:
        messages.success(
            request,
            f"Published {publication.file_count} files ({publication.size_bytes:,} bytes).",
        )
    else:
        messages.error(
            request, f"Publishing failed; the previous site is still served. {publication.error}"
        )
    return redirect("statuspage:console")


@login_required
@role_required()
@require_GET
def preview(request: HttpRequest, path: str = "") -> HttpResponse:
    """The site as it would be published now, rendered in memory and never written."""
    wanted = f"{path}index.html" if path == "" or path.endswith("/") else path
    for name, data in site_files(site_snapshot()):
        if name == wanted:
            content_type = serving.CONTENT_TYPES.get(f".{name.rsplit('.', 1)[-1]}", "text/plain")
            response = HttpResponse(data, content_type=content_type)
            break
        if name == f"{path}/index.html":
            return redirect(f"{request.path}/")
    else:
        response = HttpResponseNotFound("Not in the site.", content_type="text/plain")
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
