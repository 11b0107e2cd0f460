"""Forms for claims: the public claim form, and the console's queue filters and decisions.
They parse what a person typed into the arguments the services take; the rules (matching,
evidence, states, four eyes) live in ``services.claims`` and ``services.claim_decisions``, whose
``AmendsError`` is shown next to the field it names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone

from amends.core.errors import AmendsError
from amends.core.money import parse_amount
from amends.network.importer.fields import any_phone
from amends.outages.models import Outage
from amends.remedy.models import Claim, ClaimStatus, PayoutMethod, Program, ProgramStatus
from amends.remedy.services import claims as claim_services
from amends.remedy.services.claim_decisions import Outcome


class AmendsErrorForm(forms.Form):
    def add_amends_error(self, error: AmendsError) -> None:
        """Show a service's error beside the field it names (or above the form)."""
        self.add_error(error.field if error.field in self.fields else None, error.message)


def amount_in_cents(text: str) -> int:
    try:
        return parse_amount(text)
    except ValueError:
        raise forms.ValidationError(
            "Enter an amount in dollars and cents, like 1250.00", code="amount"
        ) from None


# The public claim form -----------------------------------------------------------------------


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class EvidenceField(forms.Field):
    """Any number of files in one input; the service checks how many, how big and of which
    type, and names each file that fails."""

    widget = MultipleFileInput(
        attrs={"accept": ".pdf,.jpg,.jpeg,.png,.heic," + ",".join(claim_services.EVIDENCE_TYPES)}
    )

    def to_python(self, value: Any) -> list[UploadedFile[bytes]]:
        items = value if isinstance(value, list | tuple) else [value] if value else []
        return [item for item in items if isinstance(item, UploadedFile)]


class OutageChoiceField(forms.ModelChoiceField[Outage]):
    def label_from_instance(self, obj: Outage) -> str:
        started = timezone.localtime(obj.started_at)
        return f"{obj.title} — started {started.day} {started:%b %Y} ({obj.reference})"


REATTACH = " We did not keep the files you chose: choose them again before sending."


class ClaimForm(AmendsErrorForm):
    account_number = forms.CharField(
        label="Account number",
        max_length=64,
        help_text="As it appears on your bill.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    postcode = forms.RegexField(
        label="Postcode of the service address",
        regex=r"^[0-9]{4}$",
        error_messages={"invalid": "Enter the 4-digit postcode, like 2650"},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    business_name = forms.CharField(
        label="Business name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    contact_name = forms.CharField(
        label="Your name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label="Phone",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    outage = OutageChoiceField(
        label="The outage",
        queryset=Outage.objects.none(),
        to_field_name="reference",
        empty_label="Choose the outage",
    )
    description = forms.CharField(
        label="What did the outage cost your business?",
        max_length=5000,
        help_text="What happened, when, and how you worked out the amount.",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    amount_claimed = forms.CharField(
        label="Amount claimed, in dollars",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    evidence = EvidenceField(label="Evidence", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outage"].queryset = claim_services.claimable_outages()  # type: ignore[attr-defined]
        self.fields["evidence"].help_text = (
            f"Invoices, cancelled bookings, bank statements: PDF, JPEG, PNG or HEIC, up to "
            f"{settings.AMENDS_CLAIM_MAX_FILES} files of at most "
            f"{settings.AMENDS_CLAIM_MAX_FILE_MB} MB each. It helps us decide."
        )

    def clean_phone(self) -> str:
        try:
            return any_phone(self.cleaned_data["phone"].strip())
        except ValueError:
            raise forms.ValidationError("Enter a phone number, like 02 9999 0000") from None

    def clean_amount_claimed(self) -> int:
        return amount_in_cents(self.cleaned_data["amount_claimed"])

    def clean_evidence(self) -> list[UploadedFile[bytes]]:
        files = self.cleaned_data["evidence"]
        try:
            claim_services.check_evidence(files)
        except AmendsError as exc:
            raise forms.ValidationError(exc.message) from None
        return list(files)

    def describe_errors(self) -> None:
        """Point each invalid input at its message (and its hint) for screen readers, and say
        that files chosen before are not kept (a browser never refills a file input)."""
        if self.is_bound and self.errors and self.files.getlist("evidence"):
            self["evidence"].help_text += REATTACH  # the bound field keeps its own copy
        for name in self.errors if self.is_bound else ():
            if name in self.fields:
                auto_id = self[name].auto_id
                hint = [f"{auto_id}_helptext"] if self.fields[name].help_text else []
                described = " ".join([*hint, f"{auto_id}_error"])
                self.fields[name].widget.attrs["aria-describedby"] = described

    def details(self) -> claim_services.ClaimDetails:
        data = self.cleaned_data
        return claim_services.ClaimDetails(
            account_number=data["account_number"].strip(),
            postcode=data["postcode"],
            business_name=data["business_name"].strip(),
            contact_name=data["contact_name"].strip(),
            email=data["email"],
            phone=data["phone"],
            outage=data["outage"],
            description=data["description"].strip(),
            amount_claimed_cents=data["amount_claimed"],
        )


# The console ---------------------------------------------------------------------------------

AGE_CHOICES = [
    ("", "Any age"),
    ("7", "Older than 7 days"),
    ("14", "Older than 14 days"),
    ("30", "Older than 30 days"),
]
OPEN_FILTER = "open"  # not yet answered: submitted, being assessed, waiting for approval


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), (OPEN_FILTER, "Not yet decided"), *ClaimStatus.choices],
        required=False,
    )
    outage = forms.CharField(label="Outage reference", required=False, max_length=20)
    age = forms.ChoiceField(label="Waiting", choices=AGE_CHOICES, required=False)

    def apply(self, claims: QuerySet[Claim]) -> QuerySet[Claim]:
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status")
        if status == OPEN_FILTER:
            claims = claims.filter(
                status__in=(
                    ClaimStatus.SUBMITTED,
                    ClaimStatus.ASSESSING,
                    ClaimStatus.PENDING_APPROVAL,
                )
            )
        elif status:
            claims = claims.filter(status=status)
        if reference := (data.get("outage") or "").strip():
            claims = claims.filter(outage__reference__iexact=reference)
        if days := data.get("age"):
            claims = claims.filter(created_at__lt=timezone.now() - timedelta(days=int(days)))
        return claims.select_related("outage", "program", "assessor").order_by("created_at", "id")


OUTCOME_CHOICES = [
    (Outcome.APPROVED.value, "Approve the amount claimed"),
    (Outcome.PARTLY_APPROVED.value, "Approve part of it"),
    (Outcome.DECLINED.value, "Decline"),
]
METHOD_CHOICES = [
    ("", "Usual: bill credit, or refund if former"),
    (PayoutMethod.BILL_CREDIT.value, PayoutMethod.BILL_CREDIT.label),
    (PayoutMethod.REFUND.value, PayoutMethod.REFUND.label),
]


class DecisionForm(AmendsErrorForm):
    outcome = forms.ChoiceField(label="Decision", choices=OUTCOME_CHOICES, widget=forms.RadioSelect)
    amount = forms.CharField(
        label="Amount approved, in dollars",
        required=False,
        max_length=20,
        help_text="Only for a partial approval.",
    )
    program = forms.ModelChoiceField(
        label="Paid by program",
        queryset=Program.objects.none(),
        to_field_name="reference",
        required=False,
        empty_label="Choose a program",
        help_text="A program covering this claim's outage. Not needed to decline.",
    )
    method = forms.ChoiceField(label="Paid as", choices=METHOD_CHOICES, required=False)
    reasons = forms.CharField(
        label="Reasons (sent to the claimant)",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: Any, claim: Claim, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        programs = Program.objects.exclude(status=ProgramStatus.CLOSED).order_by("-created_at")
        if claim.outage_id is not None:
            programs = programs.filter(outages=claim.outage_id)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]

    def clean_amount(self) -> int | None:
        text = self.cleaned_data["amount"].strip()
        return amount_in_cents(text) if text else None

    def decide_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "outcome": data["outcome"],
            "reasons": data["reasons"],
            "amount_cents": data["amount"],
            "program": data["program"],
            "method": data["method"],
        }


class ReturnForm(AmendsErrorForm):
    note = forms.CharField(
        label="Why it goes back to the analyst",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
