"""The message template console: every kind × channel × language with who wrote it, and the
editor with its live preview (htmx) against the sample customer. Saving goes through
``template_services.template_save``, which refuses a template that would not render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from amends.comms import forms, preview, templating
from amends.comms.models import MessageTemplate, NoticeKind
from amends.comms.template_services import (
    FIELD_FOR_PART,
    LANGUAGE_TAG,
    TEMPLATE_EDITORS,
    TemplateRefused,
    template_save,
)
from amends.comms.views import CHANNEL_LABELS, KIND_NAMES, HtmxHttpRequest, language_name, user_of
from amends.core.errors import AmendsError
from amends.core.permissions import role_required
from amends.core.roles import has_role


def _languages(overrides: list[MessageTemplate]) -> list[str]:
    return list(dict.fromkeys([*templating.LANGUAGES, *(t.language for t in overrides)]))


def _shipped_language(kind: str, channel: str, language: str) -> str | None:
    try:
        return templating.default_sources(kind, channel, language)[0]
    except templating.MissingTemplate:
        return None


def _template_state(ours: MessageTemplate | None, shipped: str | None, language: str) -> str:
    if ours is not None:
        return f"Ours v{ours.version}"
    if shipped is None:
        return "None"
    return "Shipped" if shipped == language else f"Shipped ({shipped})"


@login_required
@role_required()
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    """Every kind × channel × language: the operator's latest version, or the shipped one."""
    overrides = list(
        MessageTemplate.objects.only(
            "kind", "channel", "language", "version", "author", "created_at"
        ).order_by("version")
    )
    latest = {(t.kind, t.channel, t.language): t for t in overrides}
    languages = _languages(overrides)
    groups = []
    for kind, kind_label in NoticeKind.choices:
        rows = []
        for channel in templating.PARTS:
            cells = []
            for language in languages:
                ours = latest.get((kind, channel, language))
                shipped = _shipped_language(kind, channel, language)
                cells.append(
                    {
                        "language": language,
                        "ours": ours,
                        "state": _template_state(ours, shipped, language),
                        "url": reverse("comms:template", args=[kind, channel, language]),
                    }
                )
            if any(cell["ours"] or cell["state"] != "None" for cell in cells):
                rows.append({"channel": CHANNEL_LABELS.get(channel, channel), "cells": cells})
        groups.append({"kind": KIND_NAMES[kind], "label": kind_label, "rows": rows})
    return render(
        request,
        "comms/templates.html",
        {
            "groups": groups,
            "languages": languages,
            "kinds": NoticeKind.choices,
            "channels": [(c, CHANNEL_LABELS.get(c, c)) for c in templating.PARTS],
            "can_edit": has_role(request.user, *TEMPLATE_EDITORS),
        },
    )


@login_required
@role_required()
@require_GET
def template_open(request: HttpRequest) -> HttpResponse:
    """The list's "open another language" form: go to that template's editor."""
    kind, channel = request.GET.get("kind", ""), request.GET.get("channel", "")
    language = request.GET.get("language", "").strip()
    if kind not in NoticeKind.values or channel not in templating.PARTS:
        raise Http404("no such template")
    if not LANGUAGE_TAG.fullmatch(language):
        messages.error(request, f"“{language}” is not a language tag such as en, zh or pt-BR.")
        return redirect("comms:templates")
    return redirect("comms:template", kind=kind, channel=channel, language=language)


def _check_template_key(kind: str, channel: str, language: str) -> None:
    if kind not in NoticeKind.values or channel not in templating.PARTS:
        raise Http404("no such template")
    if not LANGUAGE_TAG.fullmatch(language):
        raise Http404("no such language")


def _starting_point(kind: str, channel: str, language: str) -> tuple[dict[str, str], str]:
    """What the editor opens with, and a sentence saying where it comes from."""
    ours = (
        MessageTemplate.objects.filter(kind=kind, channel=channel, language=language)
        .order_by("-version")
        .first()
    )
    if ours is not None:
        note = (
            f"Our version {ours.version}, saved by {ours.author} on "
            f"{ours.created_at:%d %b %Y at %H:%M}."
        )
        return {"subject": ours.subject, "body": ours.body, "html": ours.html}, note
    try:
        shipped, sources = templating.default_sources(kind, channel, language)
    except templating.MissingTemplate:
        return {}, (
            "Amends ships no wording for this kind of notice on this channel: "
            "start from a blank template."
        )
    initial = {"subject": sources.get("subject", ""), "body": sources.get("text", "")}
    initial["html"] = sources.get("html", "")
    if shipped != language:
        return initial, (
            f"The shipped default in {shipped}: Amends ships none in {language}, so customers "
            f"who read {language} get this one until you save your own."
        )
    return initial, "The shipped default. Saving makes your own version 1."


def _editor(
    request: HttpRequest,
    *,
    kind: str,
    channel: str,
    language: str,
    form: forms.TemplateForm,
    note: str,
    status: int = 200,
) -> HttpResponse:
    sources = form.sources() if form.is_bound else {**form.initial}
    versions = MessageTemplate.objects.filter(
        kind=kind, channel=channel, language=language
    ).order_by("-version")[:10]
    context = {
        "kind": kind,
        "kind_label": KIND_NAMES[kind],
        "channel": channel,
        "channel_label": CHANNEL_LABELS.get(channel, channel),
        "language": language,
        "language_name": language_name(language),
        "form": form,
        "note": note,
        "result": preview.template_preview(
            kind=kind, channel=channel, language=language, sources=sources
        ),
        "variables": templating.VARIABLES,
        "filters": templating.FILTERS,
        "versions": versions,
        "can_edit": has_role(request.user, *TEMPLATE_EDITORS),
    }
    return render(request, "comms/template_edit.html", context, status=status)


@login_required
@role_required()
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, kind: str, channel: str, language: str) -> HttpResponse:
    _check_template_key(kind, channel, language)
    parts = templating.PARTS[channel]
    if request.method == "GET":
        initial, note = _starting_point(kind, channel, language)
        form = forms.TemplateForm(initial=initial, parts=parts, channel=channel)
        return _editor(request, kind=kind, channel=channel, language=language, form=form, note=note)
    if not has_role(request.user, *TEMPLATE_EDITORS):
        raise PermissionDenied("Your account has no role that may edit message templates.")
    form = forms.TemplateForm(request.POST, parts=parts, channel=channel)
    form.is_valid()
    try:
        saved = template_save(
            actor=user_of(request), kind=kind, channel=channel, language=language, **form.sources()
        )
    except TemplateRefused as exc:
        for problem in exc.problems:
            where = f"Line {problem.line}: " if problem.line else ""
            form.add_problem(
                FIELD_FOR_PART.get(problem.part, problem.part), where + problem.message
            )
    except AmendsError as exc:
        form.add_problem(exc.field or "", exc.message)
    else:
        messages.success(request, f"Saved version {saved.version}.")
        return redirect("comms:template", kind=kind, channel=channel, language=language)
    note = "Not saved: correct the marked parts."
    return _editor(
        request, kind=kind, channel=channel, language=language, form=form, note=note, status=400
    )


@login_required
@role_required(*TEMPLATE_EDITORS)
@require_POST
def template_preview(
    request: HtmxHttpRequest, kind: str, channel: str, language: str
) -> HttpResponse:
    """The editor's live preview (htmx swaps in the fragment; without JavaScript the "Preview"
    button shows the whole editor again with the preview)."""
    _check_template_key(kind, channel, language)
    form = forms.TemplateForm(request.POST, parts=templating.PARTS[channel], channel=channel)
    if not request.htmx:
        note = "Preview of what you typed; not saved yet."
        return _editor(request, kind=kind, channel=channel, language=language, form=form, note=note)
    result = preview.template_preview(
        kind=kind, channel=channel, language=language, sources=form.sources()
    )
    context = {"result": result, "channel": channel, "language": language}
    return render(request, "comms/_template_preview.html", context)
