"""The outage console: list, declare (with a live impact preview), detail, and the commander's
actions. Views parse forms, call one service, and turn ``AmendsError`` into a form error or a
message; each write has its own URL and redirects back to the outage.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from amends.comms import languages
from amends.core.errors import AmendsError, NotFound
from amends.core.permissions import role_required
from amends.core.roles import Role, has_role
from amends.network.models import Segment
from amends.outages import forms, queries, services
from amends.outages.models import Outage, Status, Visibility
from amends.outages.queries import ImpactCounts


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails  # set by django_htmx's middleware


COMMANDERS = (Role.COMMANDER, Role.ADMIN)  # and superusers, via has_role
PAGE_SIZE = 50


def _outage(reference: str) -> Outage:
    try:
        return queries.outage_by_reference(reference)
    except NotFound as exc:
        raise Http404(exc.message) from None


@login_required
@role_required()
@require_GET
def outage_list(request: HttpRequest) -> HttpResponse:
    filters = forms.OutageFilterForm(request.GET or None)
    outages = filters.apply(Outage.objects.all())
    page = Paginator(outages, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "outages/list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "now": timezone.now(),
            "can_command": has_role(request.user, *COMMANDERS),
        },
    )


@login_required
@role_required(*COMMANDERS)
@require_http_methods(["GET", "POST"])
def outage_declare(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = forms.DeclareForm(initial={"started_at": timezone.now().replace(second=0)})
        return _declare_page(request, form, forms.ScopeLines())
    form, lines = forms.DeclareForm(request.POST), forms.ScopeLines(request.POST)
    if form.is_valid() & lines.is_valid():  # both, so every error shows at once
        if not lines.filled():
            lines.errors.append("Name at least one element, area, product or service affected.")
        else:
            try:
                change = services.outage_declare(
                    actor=request.user, scope_items=lines.specs(), **form.declare_arguments()
                )
            except AmendsError as exc:
                if not lines.add_error(exc):
                    form.add_amends_error(exc)
            else:
                messages.success(request, f"Declared {change.outage.reference}.")
                return redirect("outages:detail", reference=change.outage.reference)
    return _declare_page(request, form, lines, status=400)


def _declare_page(
    request: HttpRequest,
    form: forms.DeclareForm,
    lines: forms.ScopeLines,
    *,
    preview: ImpactCounts | None = None,
    preview_error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "lines": lines, "preview": preview, "preview_error": preview_error}
    return render(request, "outages/declare.html", context, status=status)


@login_required
@role_required(*COMMANDERS)
@require_POST
def outage_preview(request: HtmxHttpRequest) -> HttpResponse:
    """The declare form's live preview (htmx swaps in the fragment; without JavaScript the
    "Preview impact" button shows the whole form again with the preview)."""
    lines = forms.ScopeLines(request.POST)
    counts, error = None, ""
    if not lines.is_valid():
        error = " ".join(
            f"Scope line {i + 1}: {forms.describe_form_errors(row)}"
            for i, row in enumerate(lines)
            if row.errors
        )
    elif lines.filled():
        try:
            counts = services.outage_preview(scope_items=lines.specs())
        except AmendsError as exc:
            error = lines.describe_error(exc)
    if request.htmx:
        # 200 even for an error: htmx swaps only successful responses into the page.
        context = {"preview": counts, "preview_error": error}
        return render(request, "outages/_preview.html", context)
    form = forms.DeclareForm(request.POST)
    return _declare_page(request, form, lines, preview=counts, preview_error=error)


@login_required
@role_required()
@require_GET
def outage_detail(request: HttpRequest, reference: str) -> HttpResponse:
    outage = _outage(reference)
    can_command = has_role(request.user, *COMMANDERS)
    scope_items = list(outage.scope_items.select_related("element", "product"))
    for item in scope_items:
        item.kind_label = forms.SCOPE_KIND_LABELS.get(item.kind, item.kind)  # type: ignore[attr-defined]
    counts = queries.impact_counts(outage)
    segments = dict(Segment.choices)
    context = {
        "outage": outage,
        "now": timezone.now(),
        "counts": counts,
        "by_segment": {segments.get(k, k): n for k, n in counts.by_segment.items()},
        "classification_history": outage.classification_changes.order_by("-created_at", "-id"),
        "scope_items": scope_items,
        "has_open_items": any(item.include and item.is_open for item in scope_items),
        "updates": outage.updates.order_by("-created_at", "-id").prefetch_related("social_posts"),
        "etr_changes": outage.etr_changes.order_by("-created_at", "-id"),
        "still_out_reports": queries.open_still_out_reports(outage),
        "can_command": can_command,
    }
    if can_command:
        context |= {
            "transitions": [(to, Status(to).label) for to in services.TRANSITIONS[outage.status]],
            "transition_values": services.TRANSITIONS[outage.status],
            "etr_form": forms.EtrForm(
                initial={"etr": outage.etr},  # next update by: blank means the default
                prefix="etr",
            ),
            "update_form": forms.UpdateForm(prefix="update"),
            "restore_form": forms.RestoreForm(prefix="restore"),
            "scope_form": forms.ScopeRowForm(prefix="scope-0"),
            "translation_forms": _translation_forms(outage),
        }
    return render(request, "outages/detail.html", context)


def _translation_forms(outage: Outage) -> list[tuple[str, str, Form]]:
    """(language, its name, the form with what it has) for each served language but English."""
    given = outage.translations or {}
    return [
        (
            language,
            languages.language_name(language),
            forms.TranslationForm(initial=given.get(language, {}), prefix=f"tr-{language}"),
        )
        for language in settings.AMENDS_LANGUAGES
        if language != "en"
    ]


def _act(
    request: HttpRequest,
    reference: str,
    form: Form,
    action: Callable[[Outage, dict[str, object]], str],
) -> HttpResponse:
    """Run one commander action: validate, call the service, say what happened, go back."""
    outage = _outage(reference)
    if not form.is_valid():
        messages.error(request, forms.describe_form_errors(form))
    else:
        try:
            messages.success(request, action(outage, form.cleaned_data))
        except AmendsError as exc:
            messages.error(request, forms.describe_error(exc))
    return redirect("outages:detail", reference=outage.reference)


@login_required
@role_required(*COMMANDERS)
@require_POST
def outage_transition(request: HttpRequest, reference: str) -> HttpResponse:
    def act(outage: Outage, data: dict[str, object]) -> str:
        change = services.outage_transition(
            actor=request.user,
            outage=outage,
            to=str(data["to"]),
            message=str(data["message"]),
            resolution_summary=str(data["resolution_summary"]),
        )
        return f"{change.outage.reference} is now {change.outage.get_status_display()}."

    return _act(request, reference, forms.TransitionForm(request.POST), act)


@login_required
@role_required(*COMMANDERS)
@require_POST
def outage_set_etr(request: HttpRequest, reference: str) -> HttpResponse:
    def act(outage: Outage, data: dict[str, object]) -> str:
        services.outage_set_etr(
            actor=request.user,
            outage=outage,
            etr=data["etr"],  # type: ignore[arg-type]
            next_update_by=data["next_update_by"],  # type: ignore[arg-type]
            reason=str(data["reason"]),
        )
        return "ETR updated." if data["etr"] else "ETR set to not yet known."

    return _act(request, reference, forms.EtrForm(request.POST, prefix="etr"), act)


@login_required
@role_required(*COMMANDERS)
@require_POST
def outage_post_update(request: HttpRequest, reference: str) -> HttpResponse:
    def act(outage: Outage, data: dict[str, object]) -> str:
        update = services.outage_post_update(
            actor=request.user,
            outage=outage,
            message=str(data["message"]),
            visibility=str(data["visibility"]),
            next_update_by=data["next_update_by"],  # type: ignore[arg-type]
        )
        article = "an" if update.visibility == Visibility.INTERNAL else "a"
        return f"Posted {article} {update.get_visibility_display().lower()} update."

    return _act(request, reference, forms.UpdateForm(request.POST, prefix="update"), act)


@login_required
@role_required(*COMMANDERS)
@require_POST
def outage_restore(request: HttpRequest, reference: str) -> HttpResponse:
    def act(outage: Outage, data: dict[str, object]) -> str:
        item_id = data["item_id"]
        change = services.outage_restore(
            actor=request.user,
            outage=outage,
            item_ids=None if item_id is None else [int(str(item_id))],
            at=data["at"],  # type: ignore[arg-type]
            message=str(data["message"]),
        )
        restored = change.impact.no_longer_affected if change.impact else 0
        return (
            f"Restored: {restored:,} services back. "
            f"{change.outage.reference} is {change.outage.get_status_display()}."
        )

    return _act(request, reference, forms.RestoreForm(request.POST, prefix="restore"), act)


@login_required
@role_required(*COMMANDERS)
@require_POST
def still_out_handle(request: HttpRequest, reference: str, report_id: int) -> HttpResponse:
    def act(outage: Outage, data: dict[str, object]) -> str:
        report = queries.open_still_out_reports(outage).filter(pk=report_id).first()
        if report is None:
            raise AmendsError("no open still-out report with that id", field="report")
        services.still_out_handle(actor=request.user, report=report, outcome=str(data["outcome"]))
        return f"Still-out report of customer {report.customer.external_id} {data['outcome']}."

    return _act(request, reference, forms.StillOutForm(request.POST), act)


@login_required
@role_required(*COMMANDERS)
@require_POST
def outage_add_scope(request: HttpRequest, reference: str) -> HttpResponse:
    row = forms.ScopeRowForm(request.POST, prefix="scope-0")

    def act(outage: Outage, data: dict[str, object]) -> str:
        if row.is_blank():
            raise AmendsError("choose a kind and say what it names", field="scope")
        change = services.outage_add_scope(actor=request.user, outage=outage, items=[row.to_spec()])
        diff = change.impact
        return (
            f"Scope added: {diff.newly_affected:,} newly affected, "
            f"{diff.no_longer_affected:,} no longer affected."
            if diff
            else "Scope added."
        )

    return _act(request, reference, row, act)


@login_required
@role_required(*COMMANDERS)
@require_POST
def outage_remove_scope(request: HttpRequest, reference: str, item_id: int) -> HttpResponse:
    def act(outage: Outage, data: dict[str, object]) -> str:
        change = services.outage_remove_scope(actor=request.user, outage=outage, item_id=item_id)
        diff = change.impact
        gone = diff.no_longer_affected if diff else 0
        return f"Scope line removed: {gone:,} services no longer affected."

    return _act(request, reference, Form(request.POST), act)


@login_required
@role_required(*COMMANDERS)
@require_POST
def outage_translate(request: HttpRequest, reference: str, language: str) -> HttpResponse:
    def act(outage: Outage, data: dict[str, object]) -> str:
        texts = {name: str(value) for name, value in data.items()}
        services.outage_translate(actor=request.user, outage=outage, language=language, texts=texts)
        return f"Saved the words in {languages.language_name(language)}."

    form = forms.TranslationForm(request.POST, prefix=f"tr-{language}")
    return _act(request, reference, form, act)
