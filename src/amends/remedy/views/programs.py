"""The remediation console's programs and policies: program list, create a program (outages +
policy), the program page (calculate, calculation versions, policy change, difference between
versions, one calculation's entitlements with their explanations), and the policy list and
editor (start from a preset, edit the JSON; a refused document names its field; each save is a
new version).

Views are thin: forms parse, one service writes, an ``AmendsError`` becomes a form error or a
message. Remediation analysts (and admins) write; every other staff role reads.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from amends.core.errors import AmendsError, NotFound
from amends.core.money import format_money
from amends.core.permissions import refusal, role_required
from amends.core.roles import has_role
from amends.outages.models import Outage
from amends.remedy.models import (
    Calculation,
    Entitlement,
    Exclusion,
    Policy,
    PolicyVersion,
    Program,
)
from amends.remedy.policy import PRESET_SOURCES, PRESETS, validate_policy
from amends.remedy.services import programs
from amends.remedy.services.calculation import calculate, calculation_diff
from amends.remedy.services.programs import WRITERS
from amends.remedy.services.review import program_by_reference

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


def _program(reference: str) -> Program:
    try:
        return program_by_reference(reference)
    except NotFound:
        raise Http404(f"no program {reference}") from None


def _can_write(request: HttpRequest) -> bool:
    return has_role(request.user, *WRITERS)


# --- forms -----------------------------------------------------------------------------------


def _latest_versions() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.select_related("policy").order_by("policy__name", "-version")


class VersionChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.policy.name} v{obj.version}" + (f" ({obj.preset})" if obj.preset else "")


class OutageChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        """Started when, in the operator's zone as everywhere in the console (not UTC's date)."""
        started = dateformat.format(timezone.localtime(obj.started_at), "j M Y H:i")
        return f"{obj.reference} {obj.title} ({started}, {obj.get_status_display()})"


class ProgramForm(forms.Form):
    name = forms.CharField(max_length=200)
    outages = OutageChoices(
        queryset=Outage.objects.order_by("-started_at"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Hold Ctrl (⌘ on a Mac) to choose several.",
    )
    policy_version = VersionChoice(queryset=_latest_versions(), label="Policy version")


class PolicyChangeForm(forms.Form):
    policy_version = VersionChoice(queryset=_latest_versions(), label="Policy version")


class CalculateForm(forms.Form):
    as_of = forms.DateTimeField(
        required=False,
        label="As of",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Windows still open count to here. Blank: now.",
    )


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=120)
    document = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
        help_text="The policy as JSON. Each save is a new version; versions never change.",
    )

    def parsed(self) -> Any:
        try:
            return json.loads(self.cleaned_data["document"])
        except ValueError as exc:
            raise AmendsError(f"is not JSON: {exc}", field="document") from None


def _add_error(form: forms.Form, exc: AmendsError) -> None:
    """Put the error by the field it names; a field inside the document goes on the JSON box
    with its dotted path (``basis.amount_cents: …``)."""
    if exc.field in form.fields:
        form.add_error(exc.field, exc.message)
    elif exc.field and "document" in form.fields:
        form.add_error("document", f"{exc.field}: {exc.message}")
    else:
        form.add_error(None, str(exc))


# --- programs --------------------------------------------------------------------------------


@login_required
@role_required()
@require_GET
def program_list(request: HttpRequest) -> HttpResponse:
    listing = Program.objects.select_related("policy_version__policy").prefetch_related("outages")
    page = Paginator(listing, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "remedy/programs/list.html", {"page": page, "can_write": _can_write(request)}
    )


@login_required
@role_required(*WRITERS)
@require_http_methods(["GET", "POST"])
def program_create(request: HttpRequest) -> HttpResponse:
    form = ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            program = programs.program_create(
                _user(request),
                form.cleaned_data["name"],
                list(form.cleaned_data["outages"]),
                form.cleaned_data["policy_version"],
            )
        except AmendsError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, f"Opened {program.reference}. Calculate it next.")
            return redirect("remedy:program", reference=program.reference)
    status = 400 if form.is_bound else 200
    return render(request, "remedy/programs/create.html", {"form": form}, status=status)


@login_required
@role_required()
@require_GET
def program_detail(request: HttpRequest, reference: str) -> HttpResponse:
    program = _program(reference)
    calculations = list(program.calculations.order_by("-version"))
    context = {
        "program": program,
        "calculations": [_calculation_row(c) for c in calculations],
        "can_write": _can_write(request),
        "can_change_policy": program.status in programs.POLICY_CHANGEABLE,
        "calculate_form": CalculateForm(),
        "policy_form": PolicyChangeForm(initial={"policy_version": program.policy_version}),
        "document": _pretty(program.policy_version.document),
    }
    return render(request, "remedy/programs/detail.html", context)


def _calculation_row(calculation: Calculation) -> dict[str, Any]:
    return {
        "c": calculation,
        "total": format_money(calculation.total_cents, calculation.policy_version.currency),
        "seconds": f"{calculation.duration_ms / 1000:.1f}",
    }


@login_required
@role_required(*WRITERS)
@require_POST
def program_calculate(request: HttpRequest, reference: str) -> HttpResponse:
    program = _program(reference)
    form = CalculateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "As of: enter a date and time.")
        return redirect("remedy:program", reference=program.reference)
    try:
        calculation = calculate(_user(request), program, form.cleaned_data["as_of"])
    except AmendsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Calculated version {calculation.version}: {calculation.eligible_customers:,} of "
            f"{calculation.affected_customers:,} customers eligible, "
            f"{format_money(calculation.total_cents, calculation.policy_version.currency)}.",
        )
    return redirect("remedy:program", reference=program.reference)


@login_required
@role_required(*WRITERS)
@require_POST
def program_policy(request: HttpRequest, reference: str) -> HttpResponse:
    program = _program(reference)
    form = PolicyChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Policy version: choose one of the list.")
    else:
        try:
            version = form.cleaned_data["policy_version"]
            programs.program_set_policy(_user(request), program, version)
        except AmendsError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Now under {version}. Calculate again.")
    return redirect("remedy:program", reference=program.reference)


@login_required
@role_required()
@require_GET
def calculation_detail(request: HttpRequest, reference: str, version: int) -> HttpResponse:
    program = _program(reference)
    calculation = _calculation(program, version)
    exclusion = request.GET.get("exclusion", "all")
    customer = request.GET.get("customer", "").strip()
    rows = Entitlement.objects.filter(calculation=calculation).select_related("customer")
    if customer:
        rows = rows.filter(customer__external_id=customer)
    elif exclusion == "eligible":
        rows = rows.filter(eligible=True)
    elif exclusion in Exclusion.values and exclusion:
        rows = rows.filter(exclusion=exclusion)
    page = Paginator(rows.order_by("-total_cents", "customer_id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    currency = calculation.policy_version.currency
    context = {
        "program": program,
        "calculation": calculation,
        "total": format_money(calculation.total_cents, currency),
        "page": page,
        "rows": [
            {"e": e, "amount": format_money(e.total_cents, currency)} for e in page.object_list
        ],
        "exclusion": exclusion,
        "customer": customer,
        "query": urlencode({"exclusion": exclusion, "customer": customer}),
        "exclusions": [(value, label) for value, label in Exclusion.choices if value],
    }
    return render(request, "remedy/programs/calculation.html", context)


def _calculation(program: Program, version: int | str) -> Calculation:
    try:
        return programs.calculation_by_version(program, int(version))
    except (NotFound, ValueError):
        raise Http404(f"no calculation version {version}") from None


@login_required
@role_required()
@require_GET
def calculation_compare(request: HttpRequest, reference: str) -> HttpResponse:
    program = _program(reference)
    old = _calculation(program, request.GET.get("old", ""))
    new = _calculation(program, request.GET.get("new", ""))
    offset = max(0, int(request.GET.get("offset", "0") or 0))
    diff = calculation_diff(old, new, limit=PAGE_SIZE, offset=offset)
    currency = new.policy_version.currency
    changes = [
        {
            "c": change,
            "old": "—" if change.old_cents is None else format_money(change.old_cents, currency),
            "new": "—" if change.new_cents is None else format_money(change.new_cents, currency),
            "change": _signed(change.change_cents, currency),
        }
        for change in diff.largest
    ]
    context = {
        "program": program,
        "diff": diff,
        "changes": changes,
        "total_change": _signed(diff.total_change_cents, currency),
        "same_inputs": old.inputs_digest == new.inputs_digest,
        "next_offset": offset + PAGE_SIZE if len(diff.largest) == PAGE_SIZE else None,
        "previous_offset": max(0, offset - PAGE_SIZE) if offset else None,
    }
    return render(request, "remedy/programs/diff.html", context)


def _signed(cents: int, currency: str) -> str:
    return ("+" if cents >= 0 else "−") + format_money(abs(cents), currency)


# --- policies --------------------------------------------------------------------------------


@login_required
@role_required()
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    policies = Policy.objects.order_by("name").prefetch_related("versions")
    rows = [
        {"policy": p, "latest": max(p.versions.all(), key=lambda v: v.version)} for p in policies
    ]
    presets = [{"name": name, "source": " ".join(PRESET_SOURCES[name].split())} for name in PRESETS]
    context = {"rows": rows, "presets": presets, "can_write": _can_write(request)}
    return render(request, "remedy/programs/policies.html", context)


@login_required
@role_required(*WRITERS)
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    preset = request.GET.get("preset") or request.POST.get("preset", "")
    if preset and preset not in PRESETS:
        raise Http404(f"no preset {preset}")
    start = PRESETS[preset or "pro_rata"].as_json()
    form = PolicyForm(request.POST or None, initial={"document": _pretty(start)})
    if request.method == "POST" and form.is_valid():
        try:
            version = programs.policy_create(
                _user(request), form.cleaned_data["name"], form.parsed(), preset
            )
        except AmendsError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, f"Saved {version}.")
            return redirect("remedy:policy", pk=version.policy_id)
    context = {"form": form, "preset": preset, "presets": list(PRESETS), "policy": None}
    return render(request, "remedy/programs/policy.html", context, status=_status(form))


@login_required
@role_required()
@require_http_methods(["GET", "POST"])
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    policy = Policy.objects.filter(pk=pk).first()
    if policy is None:
        raise Http404("no such policy")
    versions = list(policy.versions.order_by("-version"))
    shown = _shown_version(versions, request.GET.get("version"))
    form = PolicyForm(
        request.POST or None,
        initial={"name": policy.name, "document": _pretty(shown.document)},
    )
    form.fields["name"].disabled = True
    if request.method == "POST":
        if not _can_write(request):
            raise PermissionDenied(refusal(WRITERS))
        if form.is_valid():
            try:
                version = programs.policy_revise(_user(request), policy, form.parsed())
            except AmendsError as exc:
                _add_error(form, exc)
            else:
                messages.success(request, f"Saved {version}.")
                return redirect("remedy:policy", pk=policy.pk)
    context = {
        "form": form,
        "policy": policy,
        "versions": versions,
        "shown": shown,
        "can_write": _can_write(request),
    }
    return render(request, "remedy/programs/policy.html", context, status=_status(form))


def _shown_version(versions: list[PolicyVersion], wanted: str | None) -> PolicyVersion:
    for version in versions:
        if wanted and str(version.version) == wanted:
            return version
    if wanted:
        raise Http404(f"no version {wanted}")
    return versions[0]


def _pretty(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def _status(form: forms.Form) -> int:
    return 400 if form.is_bound and form.errors else 200


@login_required
@role_required()
@require_POST
def policy_check(request: HttpRequest) -> HttpResponse:
    """The editor's live check (htmx): the document's first problem, or that it is valid."""
    try:
        validate_policy(json.loads(request.POST.get("document", "")))
    except ValueError as exc:
        message, ok = f"document: is not JSON: {exc}", False
    except AmendsError as exc:
        message, ok = str(exc), False
    else:
        message, ok = "Valid.", True
    context = {"message": message, "ok": ok, "checked_at": timezone.now()}
    return render(request, "remedy/programs/_check.html", context)


urlpatterns: list[URLPattern] = [
    path("", program_list, name="programs"),
    path("programs/new/", program_create, name="program-create"),
    path("programs/<str:reference>/", program_detail, name="program"),
    path("programs/<str:reference>/calculate/", program_calculate, name="calculate"),
    path("programs/<str:reference>/policy/", program_policy, name="program-policy"),
    path("programs/<str:reference>/compare/", calculation_compare, name="compare"),
    path(
        "programs/<str:reference>/calculations/<int:version>/",
        calculation_detail,
        name="calculation",
    ),
    path("policies/", policy_list, name="policies"),
    path("policies/new/", policy_create, name="policy-create"),
    path("policies/check/", policy_check, name="policy-check"),
    path("policies/<int:pk>/", policy_detail, name="policy"),
]
