"""Console forms for outages. They only parse what a person typed into the shapes the services
take (``ScopeSpec``, aware datetimes); every rule about outages lives in ``services``/``scope``,
whose ``AmendsError`` is turned back into an error next to the field it names.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from amends.core.errors import AmendsError
from amends.network.models import State
from amends.outages.models import (
    OPEN_STATUSES,
    Classification,
    Outage,
    ReportOutcome,
    ScopeKind,
    Severity,
    Status,
    Visibility,
)
from amends.outages.scope import UNPLACED_CHOICES, ScopeSpec

SCOPE_ROWS = 4  # blank lines are ignored; more scope can be added on the detail page

# Shorter than the model's labels, to fit a scope line's select and the scope table.
SCOPE_KIND_LABELS: dict[str, str] = {
    ScopeKind.ELEMENT: "Network element",
    ScopeKind.POSTCODE: "Postcode",
    ScopeKind.LOCALITY: "Locality",
    ScopeKind.STATE: "State or territory",
    ScopeKind.POLYGON: "Area (GeoJSON)",
    ScopeKind.PRODUCT: "Product",
    ScopeKind.SERVICES: "Listed services",
}

_DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
_NEXT_UPDATE_HELP = "Blank: six hours from now, or the ETR if that is sooner."
_KEEP_PROMISE_HELP = (
    "Blank: keep the published promise while it is ahead (else six hours from now), "
    "but never after the ETR."
)
_SCOPE_FIELD = re.compile(r"scope\[(\d+)\]\.(\w+)")


class LocalDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input. Django reads naive values in the current time zone, which is
    settings.TIME_ZONE (the console never activates another), and shows stored values in it."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DATETIME_FORMAT)


class OutageFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), ("open", "Open"), *Status.choices], required=False
    )
    classification = forms.ChoiceField(
        choices=[("", "Any classification"), *Classification.choices], required=False
    )
    q = forms.CharField(label="Reference or title", required=False, max_length=200)

    def apply(self, outages: QuerySet[Outage]) -> QuerySet[Outage]:
        """Filter by what was chosen; open outages first, then the most recently started."""
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status")
        if status == "open":
            outages = outages.filter(status__in=OPEN_STATUSES)
        elif status:
            outages = outages.filter(status=status)
        if data.get("classification"):
            outages = outages.filter(classification=data["classification"])
        if text := (data.get("q") or "").strip():
            outages = outages.filter(Q(reference__icontains=text) | Q(title__icontains=text))
        open_first = Case(
            When(status__in=OPEN_STATUSES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return outages.annotate(open_first=open_first).order_by("open_first", "-started_at", "-id")


class ScopeRowForm(forms.Form):
    """One scope line. Which inputs count depends on the kind (see ``to_spec``)."""

    kind = forms.ChoiceField(choices=[("", "—"), *SCOPE_KIND_LABELS.items()], required=False)
    value = forms.CharField(required=False, max_length=10_000)
    state = forms.ChoiceField(choices=[("", "—"), *State.choices], required=False)
    geojson = forms.CharField(
        label="GeoJSON", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    product = forms.CharField(label="Only product", required=False, max_length=50)
    unplaced = forms.ChoiceField(
        label="Services without coordinates",
        choices=list(UNPLACED_CHOICES.items()),
        initial="exclude",
        required=False,
        help_text="for an area: services in its postcodes that have no coordinates",
    )
    include = forms.ChoiceField(
        label="Include or exclude",
        choices=[("include", "Include"), ("exclude", "Exclude")],
        initial="include",
        required=False,
    )

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(name) for name in ("kind", "value", "state", "geojson", "product"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if not kind and any(data.get(n) for n in ("value", "state", "geojson", "product")):
            self.add_error("kind", "Choose what this line names.")
        if kind == ScopeKind.POLYGON:
            text = (data.get("geojson") or data.get("value") or "").strip()
            try:
                data["geojson_parsed"] = json.loads(text) if text else None
            except ValueError as exc:
                self.add_error("geojson", f"is not valid JSON: {exc}")
        return data

    def to_spec(self) -> ScopeSpec:
        data = self.cleaned_data
        kind, value, product = data["kind"], data["value"].strip(), data["product"].strip()
        spec = ScopeSpec(kind=kind, include=data["include"] != "exclude", product=product)
        match kind:
            case ScopeKind.ELEMENT:
                spec.element = value
            case ScopeKind.POSTCODE:
                spec.postcode = value
            case ScopeKind.LOCALITY:
                spec.locality, spec.state = value, data["state"]
            case ScopeKind.STATE:
                spec.state = data["state"] or value
            case ScopeKind.POLYGON:
                spec.geojson = data.get("geojson_parsed")
                spec.unplaced = data.get("unplaced") or "exclude"
            case ScopeKind.PRODUCT:
                spec.product = value or product
            case ScopeKind.SERVICES:
                spec.services = [s for s in re.split(r"[\s,;]+", value) if s]
        return spec

    def add_scope_error(self, name: str, message: str) -> None:
        """Attach an error from ``scope.resolve`` (named by ScopeSpec field) to an input."""
        kind = self.cleaned_data.get("kind")
        if name in ("element", "postcode", "locality", "services") or (
            name == "product" and kind == ScopeKind.PRODUCT and self.cleaned_data.get("value")
        ):
            name = "value"
        elif name == "state" and kind == ScopeKind.STATE and not self.cleaned_data.get("state"):
            name = "value"
        elif name == "geojson" and not self.cleaned_data.get("geojson"):
            name = "value" if self.cleaned_data.get("value") else "geojson"
        self.add_error(name if name in self.fields else None, message)


class ScopeLines:
    """``SCOPE_ROWS`` scope line forms; the filled-in ones become ScopeSpecs in order."""

    def __init__(self, data: Any = None, *, rows: int = SCOPE_ROWS) -> None:
        self.forms = [ScopeRowForm(data, prefix=f"scope-{i}") for i in range(rows)]
        self.errors: list[str] = []  # about the scope as a whole

    def __iter__(self) -> Any:
        return iter(self.forms)

    def is_valid(self) -> bool:
        return all([form.is_valid() for form in self.forms])  # every row, to show every error

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(form.errors for form in self.forms)

    def filled(self) -> list[ScopeRowForm]:
        return [form for form in self.forms if not form.is_blank()]

    def specs(self) -> list[ScopeSpec]:
        return [form.to_spec() for form in self.filled()]

    def describe_error(self, error: AmendsError) -> str:
        """``describe_error`` counting lines as the form shows them (blank ones included)."""
        match = _SCOPE_FIELD.fullmatch(error.field or "")
        filled = self.filled()
        if match and int(match.group(1)) < len(filled):
            number = self.forms.index(filled[int(match.group(1))]) + 1
            return f"Scope line {number}, {match.group(2)}: {error.message}"
        return describe_error(error)

    def add_error(self, error: AmendsError) -> bool:
        """Show a scope error at its line and input; False if the error is not about scope."""
        field = error.field or ""
        if match := _SCOPE_FIELD.fullmatch(field):
            filled = self.filled()
            index = int(match.group(1))
            if index < len(filled):
                filled[index].add_scope_error(match.group(2), error.message)
                return True
        if field == "scope" or field.startswith("scope"):
            self.errors.append(error.message)
            return True
        return False


class DeclareForm(forms.Form):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(
        label="Public summary", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    cause_public = forms.CharField(
        label="Cause (public)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    cause_internal = forms.CharField(
        label="Cause (internal)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MAJOR)
    started_at = LocalDateTimeField(label="Started at")
    etr = LocalDateTimeField(label="ETR (estimated restoration)", required=False)
    next_update_by = LocalDateTimeField(
        label="Next update by", required=False, help_text=_NEXT_UPDATE_HELP
    )
    natural_disaster = forms.BooleanField(label="Caused by a natural disaster", required=False)

    def declare_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``services.outage_declare`` (without actor and scope)."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "summary": data["summary"],
            "cause_public": data["cause_public"],
            "cause_internal": data["cause_internal"],
            "severity": data["severity"],
            "started_at": data["started_at"],
            "etr": data["etr"],
            "next_update_by": data["next_update_by"],
            "natural_disaster": data["natural_disaster"],
        }

    def add_amends_error(self, error: AmendsError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Status.choices)
    message = forms.CharField(label="Public message", required=False, max_length=2000)
    resolution_summary = forms.CharField(
        label="What happened (when resolving)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Past tense, for the restored, apology and credit messages: e.g. 'A "
        "power failure at our Parramatta exchange cut services for 13 hours; we replaced "
        "the failed supply.' Required to resolve.",
    )


class EtrForm(forms.Form):
    etr = LocalDateTimeField(label="New ETR", required=False, help_text="Blank: not yet known.")
    next_update_by = LocalDateTimeField(
        label="Next update by",
        required=False,
        help_text=_KEEP_PROMISE_HELP,
    )
    reason = forms.CharField(required=False, max_length=500)


class TranslationForm(forms.Form):
    """The outage's public words in one other language; blank fields are said in English."""

    title = forms.CharField(max_length=200, required=False)
    public_summary = forms.CharField(
        label="Public summary", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    cause_public = forms.CharField(
        label="Cause (public)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    resolution_summary = forms.CharField(
        label="What happened (once restored)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class UpdateForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.PUBLIC, widget=forms.RadioSelect
    )
    next_update_by = LocalDateTimeField(
        label="Next update by",
        required=False,
        help_text="For public updates. " + _NEXT_UPDATE_HELP,
    )


class StillOutForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(ReportOutcome.RESTORED, "Restored"), (ReportOutcome.DISMISSED, "Dismissed")]
    )


class RestoreForm(forms.Form):
    item_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    at = LocalDateTimeField(label="Restored at", required=False, help_text="Blank: now.")
    message = forms.CharField(label="Public message", required=False, max_length=2000)


FIELD_LABELS = {
    "etr": "ETR",
    "next_update_by": "Next update by",
    "at": "Restored at",
    "status": "Status",
    "message": "Message",
    "visibility": "Visibility",
    "scope": "Scope",
    "to": "Status",
    "outcome": "Outcome",
    "report": "Report",
    "reason": "Reason",
    "item_id": "Scope item",
}


def describe_error(error: AmendsError) -> str:
    """One line for a message: which input, then what is wrong with it."""
    field = error.field or ""
    if match := _SCOPE_FIELD.fullmatch(field):
        return f"Scope line {int(match.group(1)) + 1}, {match.group(2)}: {error.message}"
    label = FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
    return f"{label}: {error.message}" if label else error.message


def describe_form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = (
            ""
            if name == "__all__"
            else str(
                form.fields[name].label
                or FIELD_LABELS.get(name)
                or name.replace("_", " ").capitalize()
            )
        )
        text = " ".join(str(e) for e in errors)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)
