"""Console forms for notices and message templates. They only parse what a person typed into
the arguments the services take; every rule lives in ``services``/``template_services``, whose
``AmendsError`` is shown next to the field it names.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import Case, IntegerField, QuerySet, Value, When

from amends.comms.models import Audience, Notice, NoticeKind, NoticeStatus
from amends.core.errors import AmendsError
from amends.network.models import Segment
from amends.outages.models import OPEN_STATUSES, Outage

RECENT_OUTAGES = 50  # the composer offers open outages and this many recent closed ones
_SEPARATORS = re.compile(r"[\s,;]+")

URGENT_CHOICES = [
    ("", "As usual for this kind (acknowledge, ETR changed and restored are urgent)"),
    ("yes", "Urgent: send even during customers' quiet hours"),
    ("no", "Not urgent: wait until each customer's quiet hours end"),
]


class NoticeFilterForm(forms.Form):
    outage = forms.CharField(label="Outage reference", required=False, max_length=20)
    status = forms.ChoiceField(
        choices=[("", "Any status"), ("open", "Not finished"), *NoticeStatus.choices],
        required=False,
    )

    def apply(self, notices: QuerySet[Notice]) -> QuerySet[Notice]:
        data = self.cleaned_data if self.is_valid() else {}
        if reference := (data.get("outage") or "").strip():
            notices = notices.filter(outage__reference__iexact=reference)
        status = data.get("status")
        if status == "open":
            notices = notices.filter(
                status__in=(
                    NoticeStatus.DRAFT,
                    NoticeStatus.AWAITING_APPROVAL,
                    NoticeStatus.APPROVED,
                    NoticeStatus.SENDING,
                )
            )
        elif status:
            notices = notices.filter(status=status)
        return notices.select_related("outage", "author").order_by("-created_at", "-id")


def _outage_choices(selected: str) -> list[tuple[str, str]]:
    open_first = Case(
        When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    outages = list(
        Outage.objects.annotate(open_first=open_first)
        .order_by("open_first", "-started_at", "-id")
        .values_list("reference", "title", "status")[:RECENT_OUTAGES]
    )
    references = {reference for reference, _, _ in outages}
    if selected and selected not in references:
        outages += Outage.objects.filter(reference=selected).values_list(
            "reference", "title", "status"
        )
    return [("", "No outage (a list of customers)")] + [
        (reference, f"{reference} {title}" + ("" if status in OPEN_STATUSES else " (closed)"))
        for reference, title, status in outages
    ]


class ComposeForm(forms.Form):
    outage = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(label="Kind of notice", choices=NoticeKind.choices)
    audience = forms.ChoiceField(
        label="Who receives it",
        # Status subscribers are told by the status page itself, on every public change; a
        # provided audience is chosen by the app that sends its own notices (e.g. credits).
        choices=[
            (v, label)
            for v, label in Audience.choices
            if v not in (Audience.SUBSCRIBERS, Audience.PROVIDED)
        ],
    )
    segment = forms.ChoiceField(
        label="Segment",
        choices=[("", "—"), *Segment.choices],
        required=False,
        help_text="Only for “A segment of those affected”.",
    )
    customers = forms.CharField(
        label="Customers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only for “A list of customers”: their customer numbers, separated by "
        "spaces, commas or new lines.",
    )
    message = forms.CharField(
        label="Message of its own",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What this notice adds in its own words ({{ message }} in the templates).",
    )
    include_already_told = forms.BooleanField(
        label="Include customers already told",
        required=False,
        help_text="Restored, apology, credit applied and survey notices are sent once per "
        "outage: customers another notice of the kind told already are left out unless "
        "this is ticked.",
    )
    urgent = forms.ChoiceField(
        label="Quiet hours",
        choices=URGENT_CHOICES,
        initial="",
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, outage: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        selected = str(self.data.get("outage", "")) if self.is_bound else outage
        field = self.fields["outage"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _outage_choices(selected)

    def clean_outage(self) -> Outage | None:
        reference = self.cleaned_data.get("outage") or ""
        return Outage.objects.filter(reference=reference).first() if reference else None

    def create_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``services.notice_create`` (without the actor)."""
        data = self.cleaned_data
        urgent = {"yes": True, "no": False}.get(data["urgent"])
        return {
            "kind": data["kind"],
            "audience": data["audience"],
            "outage": data["outage"],
            "segment": data["segment"],
            "customers": [c for c in _SEPARATORS.split(data["customers"]) if c],
            "message": data["message"].strip(),
            "urgent": urgent,
            "include_already_told": data["include_already_told"],
        }

    def add_amends_error(self, error: AmendsError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)


class TemplateForm(forms.Form):
    """The parts one channel sends; the editor shows only those (``templating.PARTS``)."""

    subject = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    body = forms.CharField(label="Text", required=False, widget=forms.Textarea(attrs={"rows": 12}))
    html = forms.CharField(label="HTML", required=False, widget=forms.Textarea(attrs={"rows": 14}))

    LABELS = {
        "email": {"subject": "Subject", "body": "Text part", "html": "HTML part"},
        "push": {"subject": "Title", "body": "Text"},
        "voice": {"body": "Script read aloud"},
        "webhook": {"body": "JSON document"},
    }

    def __init__(self, *args: Any, parts: tuple[str, ...], channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        wanted = {"text": "body"}
        keep = {wanted.get(part, part) for part in parts}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        for name, label in self.LABELS.get(channel, {}).items():
            if name in self.fields:
                self.fields[name].label = label
        for name in self.fields:  # templates are code: keep what is typed, spaces included
            field = self.fields[name]
            assert isinstance(field, forms.CharField)
            field.strip = False
            field.widget.attrs.setdefault("class", "code")
            field.widget.attrs.setdefault("spellcheck", "false")

    def sources(self) -> dict[str, str]:
        """subject/body/html as ``template_save`` takes them (blank for absent parts)."""
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(name, "") or "" for name in ("subject", "body", "html")}

    def add_problem(self, field: str, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)
