"""REST endpoints for outages (/api/v1/outages…): thin calls onto services and queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja import Status as StatusResponse
from pydantic import ConfigDict

from amends.api.auth import caller
from amends.api.pagination import paged
from amends.core.roles import Role
from amends.outages import queries, services
from amends.outages.models import Outage, ScopeItem, Status
from amends.outages.scope import ScopeSpec

router = Router(tags=["outages"])

READ, WRITE = "outages:read", "outages:write"
CHANGERS = (Role.COMMANDER, Role.ADMIN)


def aware(value: datetime | None) -> datetime | None:
    """A datetime without an offset is read in the site's time zone."""
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


class ScopeIn(Schema):
    kind: str = Field(description="element, postcode, locality, state, polygon, product, services")
    include: bool = True
    element: str = ""
    postcode: str = ""
    locality: str = ""
    state: str = ""
    geojson: dict[str, Any] | None = None
    product: str = Field("", description="product code; narrows any kind to that product")
    services: list[str] = []
    degree: str = "full"
    started_at: datetime | None = None
    unplaced: str = Field(
        "exclude",
        description="polygon: its postcodes' services without coordinates: exclude, or "
        "postcode (matched by their postcode)",
    )

    def spec(self) -> ScopeSpec:
        return ScopeSpec(**{**self.dict(), "started_at": aware(self.started_at)})


class ScopeOut(Schema):
    id: int
    kind: str
    include: bool
    description: str
    degree: str
    started_at: datetime
    restored_at: datetime | None

    @staticmethod
    def resolve_description(item: ScopeItem) -> str:
        return item.describe()


class UpdateOut(Schema):
    visibility: str
    status: str
    message: str
    author: str
    created_at: datetime


class ClassificationChangeOut(Schema):
    classification: str
    reason: str
    crossed_at: datetime | None = Field(
        description="When the threshold was actually crossed (e.g. start + 60 min)"
    )
    created_at: datetime = Field(description="When the change was recorded")


class OutageOut(Schema):
    reference: str
    title: str
    status: str
    severity: str
    classification: str
    natural_disaster: bool
    public_summary: str
    cause_public: str
    resolution_summary: str
    detected_at: datetime
    started_at: datetime
    restored_at: datetime | None
    resolved_at: datetime | None
    etr: datetime | None
    next_update_by: datetime | None
    restoration_proposed_at: datetime | None
    affected_services: int
    affected_customers: int


class OutageDetail(OutageOut):
    cause_internal: str
    translations: dict[str, dict[str, str]] = Field(
        description='The public words in other languages, e.g. {"zh": {"title": …}}'
    )
    scope: list[ScopeOut]
    updates: list[UpdateOut]
    classification_history: list[ClassificationChangeOut]

    @staticmethod
    def resolve_scope(outage: Outage) -> list[ScopeItem]:
        return list(outage.scope_items.select_related("element", "product"))

    @staticmethod
    def resolve_updates(outage: Outage) -> list[Any]:
        return list(outage.updates.all())

    @staticmethod
    def resolve_classification_history(outage: Outage) -> list[Any]:
        return list(outage.classification_changes.order_by("created_at", "id"))


class DeclareIn(Schema):
    title: str
    summary: str = ""
    cause_public: str = ""
    cause_internal: str = ""
    severity: str = "major"
    started_at: datetime | None = None
    etr: datetime | None = None
    next_update_by: datetime | None = None
    natural_disaster: bool = False
    scope: list[ScopeIn]


class ImpactDiffOut(Schema):
    newly_affected: int
    no_longer_affected: int
    affected_now: int


class ChangeOut(Schema):
    outage: OutageDetail
    impact: ImpactDiffOut | None = None


class ImpactCountsOut(Schema):
    services: int
    customers: int
    still_affected_services: int = Field(description="every open window, reported ones too")
    reported_still_out: int = Field(
        description="services reopened by customers' STILL OUT, awaiting the commander"
    )
    by_segment: dict[str, int]
    by_product: dict[str, int]
    by_state: dict[str, int]
    priority_assistance_customers: int


class TransitionIn(Schema):
    to: str = Field(description=", ".join(Status.values))
    message: str = ""
    resolution_summary: str = Field(
        "", description="What happened, in the past tense: required to resolve."
    )


class EtrIn(Schema):
    etr: datetime | None = Field(None, description="null when not yet known")
    next_update_by: datetime | None = Field(
        None,
        description="null: keep the published promise while it is ahead (else six hours "
        "from now), never after the ETR",
    )
    reason: str = ""


class UpdateIn(Schema):
    message: str
    visibility: str = "public"
    next_update_by: datetime | None = Field(
        None, description="public updates; null: six hours from now, or the ETR if sooner"
    )


class RestoreIn(Schema):
    scope_item_ids: list[int] | None = Field(None, description="default: every open item")
    at: datetime | None = None
    message: str = ""


class ScopeAddIn(Schema):
    scope: list[ScopeIn]


class TranslationIn(Schema):
    """One language's words; what is blank or left out is said in English."""

    model_config = ConfigDict(extra="forbid")

    title: str = ""
    public_summary: str = ""
    cause_public: str = ""
    resolution_summary: str = ""


@router.get("", response=list[OutageOut], summary="List outages, newest first")
@paged
def list_outages(
    request: HttpRequest,
    status: Status | None = None,
    open: bool | None = None,
    q: str | None = None,
) -> Any:
    caller(request).require(READ)
    outages = Outage.objects.all()
    if status:
        outages = outages.filter(status=status)
    if open is not None:
        outages = queries.open_outages() if open else outages.exclude(pk__in=queries.open_outages())
    if q:
        outages = outages.filter(title__icontains=q) | outages.filter(reference__icontains=q)
    return outages.order_by("-started_at", "-id")


@router.post("", response={201: ChangeOut}, summary="Declare an outage")
def declare(request: HttpRequest, body: DeclareIn) -> Any:
    who = caller(request)
    who.require(WRITE, *CHANGERS)
    change = services.outage_declare(
        actor=who.label,
        title=body.title,
        summary=body.summary,
        cause_public=body.cause_public,
        cause_internal=body.cause_internal,
        severity=body.severity,
        started_at=aware(body.started_at),
        etr=aware(body.etr),
        next_update_by=aware(body.next_update_by),
        natural_disaster=body.natural_disaster,
        scope_items=[item.spec() for item in body.scope],
    )
    return StatusResponse(201, change)


@router.get("/{reference}", response=OutageDetail)
def get_outage(request: HttpRequest, reference: str) -> Outage:
    caller(request).require(READ)
    return queries.outage_by_reference(reference)


@router.get("/{reference}/impact", response=ImpactCountsOut, summary="Who is affected")
def get_impact(request: HttpRequest, reference: str) -> Any:
    caller(request).require(READ)
    return queries.impact_counts(queries.outage_by_reference(reference))


def _changer(request: HttpRequest, reference: str) -> tuple[str, Outage]:
    who = caller(request)
    who.require(WRITE, *CHANGERS)
    return who.label, queries.outage_by_reference(reference)


@router.post("/{reference}/scope", response=ChangeOut, summary="Add scope items")
def add_scope(request: HttpRequest, reference: str, body: ScopeAddIn) -> Any:
    actor, outage = _changer(request, reference)
    return services.outage_add_scope(
        actor=actor, outage=outage, items=[item.spec() for item in body.scope]
    )


@router.delete(
    "/{reference}/scope/{item_id}",
    response=ChangeOut,
    summary="Withdraw a scope item entered by mistake",
)
def remove_scope(request: HttpRequest, reference: str, item_id: int) -> Any:
    actor, outage = _changer(request, reference)
    return services.outage_remove_scope(actor=actor, outage=outage, item_id=item_id)


@router.post("/{reference}/status", response=ChangeOut, summary="Move through the lifecycle")
def transition(request: HttpRequest, reference: str, body: TransitionIn) -> Any:
    actor, outage = _changer(request, reference)
    return services.outage_transition(
        actor=actor,
        outage=outage,
        to=body.to,
        message=body.message,
        resolution_summary=body.resolution_summary,
    )


@router.post("/{reference}/etr", response=ChangeOut, summary="Set the estimated restoration")
def set_etr(request: HttpRequest, reference: str, body: EtrIn) -> Any:
    actor, outage = _changer(request, reference)
    return services.outage_set_etr(
        actor=actor,
        outage=outage,
        etr=aware(body.etr),
        next_update_by=aware(body.next_update_by),
        reason=body.reason,
    )


@router.post("/{reference}/updates", response={201: UpdateOut}, summary="Post a timeline update")
def post_update(request: HttpRequest, reference: str, body: UpdateIn) -> Any:
    actor, outage = _changer(request, reference)
    update = services.outage_post_update(
        actor=actor,
        outage=outage,
        message=body.message,
        visibility=body.visibility,
        next_update_by=aware(body.next_update_by),
    )
    return StatusResponse(201, update)


@router.post("/{reference}/restore", response=ChangeOut, summary="Restore part or all")
def restore(request: HttpRequest, reference: str, body: RestoreIn) -> Any:
    actor, outage = _changer(request, reference)
    return services.outage_restore(
        actor=actor,
        outage=outage,
        item_ids=body.scope_item_ids,
        at=aware(body.at),
        message=body.message,
    )


@router.put(
    "/{reference}/translations/{language}",
    response=OutageDetail,
    summary="Set the title, summary and cause in another language (replaces that language's)",
)
def translate(request: HttpRequest, reference: str, language: str, body: TranslationIn) -> Any:
    actor, outage = _changer(request, reference)
    return services.outage_translate(
        actor=actor, outage=outage, language=language, texts=body.model_dump()
    )
