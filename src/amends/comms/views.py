"""The notices console: list, compose, and the notice page (preview, actions, delivery
dashboard). The message template pages are in ``template_views``.

Views parse forms, call one service, and turn ``AmendsError`` into a form error or a message;
each write has its own URL and redirects back. Reads for the pages are in ``preview``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from amends.comms import (
    audience_providers,
    content,
    forms,
    languages,
    preview,
    services,
    surveys,
)
from amends.comms.models import Audience, Capability, Notice, NoticeKind, NoticeStatus
from amends.core.errors import AmendsError
from amends.core.permissions import role_required
from amends.core.roles import has_role


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails  # set by django_htmx's middleware


PAGE_SIZE = 50
PREVIEWED = (NoticeStatus.DRAFT, NoticeStatus.AWAITING_APPROVAL, NoticeStatus.APPROVED)
CANCELLABLE = (*PREVIEWED, NoticeStatus.SENDING)
RELEASED = (NoticeStatus.SENDING, NoticeStatus.SENT)
CHANNEL_LABELS = dict(Capability.choices)
# "Acknowledge (we know, and when it will be back)" → "Acknowledge", for headings and tables.
KIND_NAMES = {value: label.split(" (")[0] for value, label in NoticeKind.choices}
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "vi": "Vietnamese"}


def _notice(notice_id: int) -> Notice:
    return get_object_or_404(
        Notice.objects.select_related("outage", "author", "approved_by"), pk=notice_id
    )


def user_of(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


def duration_words(seconds: float) -> str:
    """An estimate people read at a glance: "under a minute", "about 12 minutes", "2 h 5 min"."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {minutes // 60} h {minutes % 60} min"


def money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


# Notices ---------------------------------------------------------------------------------


@login_required
@role_required()
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    filters = forms.NoticeFilterForm(request.GET or None)
    page = Paginator(filters.apply(Notice.objects.all()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    outage = (request.GET.get("outage") or "").strip()
    return render(
        request,
        "comms/list.html",
        {
            "filters": filters,
            "page": page,
            "rows": _rows(list(page.object_list)),
            "query": query.urlencode(),
            "outage": outage,
            "can_write": has_role(request.user, *services.AUTHORS),
        },
    )


def _rows(notices: list[Notice]) -> list[tuple[Notice, str, str]]:
    """Each notice with its kind's name and whom it reaches in words; the provided audiences
    are described all at once (a provider reads its links to a page of notices in one go)."""
    provided = audience_providers.describe_all(notices)
    return [
        (
            notice,
            KIND_NAMES[notice.kind],
            provided[notice.pk] if notice.audience == Audience.PROVIDED else notice.audience_text,
        )
        for notice in notices
    ]


@login_required
@role_required(*services.AUTHORS)
@require_http_methods(["GET", "POST"])
def notice_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {
            "kind": request.GET.get("kind", NoticeKind.ACKNOWLEDGE),
            "audience": request.GET.get("audience", Audience.ALL_AFFECTED),
        }
        reference = request.GET.get("outage", "")
        form = forms.ComposeForm(initial={**initial, "outage": reference}, outage=reference)
        return render(request, "comms/new.html", {"form": form})
    form = forms.ComposeForm(request.POST)
    if form.is_valid():
        try:
            notice = services.notice_create(actor=user_of(request), **form.create_arguments())
        except AmendsError as exc:
            form.add_amends_error(exc)
        else:
            messages.success(
                request,
                f"Draft saved: it would reach {notice.recipients:,} "
                f"customer{'s' if notice.recipients != 1 else ''}. Check the preview, then submit.",
            )
            return redirect("comms:detail", notice_id=notice.pk)
    return render(request, "comms/new.html", {"form": form}, status=400)


def _notice_actions(user: Any, notice: Notice, failed: int) -> dict[str, bool]:
    writer = has_role(user, *services.AUTHORS)
    approver = has_role(user, *services.APPROVERS)
    return {
        "submit": writer and notice.status == NoticeStatus.DRAFT,
        "approve": approver
        and notice.status == NoticeStatus.AWAITING_APPROVAL
        and notice.author_id != user.pk,
        "cancel": (writer or approver) and notice.status in CANCELLABLE,
        "retry": (writer or approver) and notice.status in RELEASED and failed > 0,
    }


@login_required
@role_required()
@require_GET
def notice_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _notice(notice_id)
    context: dict[str, Any] = {"notice": notice, "kind_name": KIND_NAMES[notice.kind]}
    if notice.status in PREVIEWED:
        context |= _preview_context(notice, preview.notice_preview(notice))
    dashboard = preview.delivery_dashboard(notice)
    context |= _dashboard_context(notice, dashboard)
    if notice.kind == NoticeKind.SURVEY:
        found = surveys.survey_results(notice)
        context["survey"] = found
        context["survey_tables"] = [("segment", found.by_segment), ("channel", found.by_channel)]
    actions = _notice_actions(request.user, notice, dashboard.failed)
    context |= {
        "actions": actions,
        "has_actions": any(actions.values()),
        "is_author": notice.author_id == request.user.pk,
        "awaiting_other": notice.status == NoticeStatus.AWAITING_APPROVAL
        and not actions["approve"],
    }
    return render(request, "comms/detail.html", context)


def language_name(tag: str) -> str:
    name = LANGUAGE_NAMES.get(tag.split("-")[0].lower()) or languages.language_name(tag)
    return f"{name} ({tag})" if name != tag else tag


def _preview_context(notice: Notice, found: preview.NoticePreview) -> dict[str, Any]:
    """The preview, with its numbers worded for people (times, money, language names)."""
    channels = [
        {
            "label": line.label,
            "recipients": line.recipients,
            "held": line.held,
            "rate_per_second": line.rate_per_second,
            "time": duration_words(line.seconds),
        }
        for line in found.channels
    ]
    sms_lines = [
        {
            "name": language_name(line.language),
            "recipients": line.recipients,
            "info": line.info,
            "error": line.error,
            "cost": money(line.cost_cents),
        }
        for line in found.sms
    ]
    return {
        "preview": found,
        "channels": channels,
        "languages": [
            (tag, language_name(tag), n, content.served_language(tag) == tag)
            for tag, n in found.languages
        ],
        "unreachable_total": sum(found.counts.unreachable.values()),
        "already_told": preview.already_told_words(
            found.counts.already_told, included=notice.include_already_told
        )
        if found.counts.already_told
        else "",
        "send_time": duration_words(found.send_seconds),
        "sms_lines": sms_lines,
        "sms_recipients": sum(line.recipients for line in found.sms),
        "sms_cost": money(found.sms_cost_cents),
        "segment_cost": money(found.segment_cost_cents),
    }


def _dashboard_context(notice: Notice, dashboard: preview.Dashboard) -> dict[str, Any]:
    return {
        "notice": notice,
        "dashboard": dashboard,
        "show_dashboard": bool(dashboard.total) or notice.status in RELEASED,
        "polling": notice.status == NoticeStatus.SENDING,
    }


@login_required
@role_required()
@require_GET
def notice_dashboard(request: HttpRequest, notice_id: int) -> HttpResponse:
    """The delivery dashboard alone: htmx polls it every 5 s while the notice is sending."""
    notice = _notice(notice_id)
    context = _dashboard_context(notice, preview.delivery_dashboard(notice))
    return render(request, "comms/_dashboard.html", {**context, "fragment": True})


def _act(request: HttpRequest, notice_id: int, action: Callable[[Notice], str]) -> HttpResponse:
    """Run one action on a notice: call the service, say what happened, go back."""
    notice = _notice(notice_id)
    try:
        messages.success(request, action(notice))
    except AmendsError as exc:
        messages.error(request, exc.message[:1].upper() + exc.message[1:] + ".")
    return redirect("comms:detail", notice_id=notice.pk)


@login_required
@role_required(*services.AUTHORS)
@require_POST
def notice_submit(request: HttpRequest, notice_id: int) -> HttpResponse:
    def act(notice: Notice) -> str:
        notice = services.notice_submit(actor=user_of(request), notice=notice)
        if notice.status == NoticeStatus.AWAITING_APPROVAL:
            return (
                f"Submitted for approval: at {notice.recipients:,} recipients, "
                "a second person must approve it before it is sent."
            )
        return f"Sending to {notice.recipients:,} recipients."

    return _act(request, notice_id, act)


@login_required
@role_required(*services.APPROVERS)
@require_POST
def notice_approve(request: HttpRequest, notice_id: int) -> HttpResponse:
    def act(notice: Notice) -> str:
        notice = services.notice_approve(actor=user_of(request), notice=notice)
        return f"Approved: sending to {notice.recipients:,} recipients."

    return _act(request, notice_id, act)


@login_required
@role_required(*services.AUTHORS, *services.APPROVERS)
@require_POST
def notice_cancel(request: HttpRequest, notice_id: int) -> HttpResponse:
    def act(notice: Notice) -> str:
        services.notice_cancel(actor=user_of(request), notice=notice)
        return "Cancelled: nothing more of this notice will be sent."

    return _act(request, notice_id, act)


@login_required
@role_required(*services.AUTHORS, *services.APPROVERS)
@require_POST
def notice_retry(request: HttpRequest, notice_id: int) -> HttpResponse:
    def act(notice: Notice) -> str:
        retried = services.deliveries_retry(actor=user_of(request), notice=notice)
        return f"Queued {retried:,} failed message{'s' if retried != 1 else ''} again."

    return _act(request, notice_id, act)
