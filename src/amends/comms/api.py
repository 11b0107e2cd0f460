"""REST endpoints for notices, inbound SMS and the marketing suppression list."""

from __future__ import annotations

import csv
import dataclasses
from datetime import datetime
from itertools import chain
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Router, Schema
from ninja import Status as StatusResponse

from amends.api.auth import caller
from amends.api.pagination import paged
from amends.comms import audience, preview, queries, services, surveys
from amends.comms.inbound import receive_sms
from amends.comms.models import Notice
from amends.core.errors import NotFound
from amends.outages import queries as outage_queries

router = Router(tags=["communications"])
suppression_router = Router(tags=["suppression"])
READ, WRITE, INTAKE = "outages:read", "outages:write", "intake"


class NoticeIn(Schema):
    kind: str
    audience: str = "all_affected"
    outage: str | None = None  # reference
    segment: str = ""
    customers: list[str] = []
    message: str = ""
    urgent: bool | None = None
    # A restored, apology, credit or survey notice leaves out customers already told that
    # kind about the outage, unless this is true.
    include_already_told: bool = False


class NoticeOut(Schema):
    id: int
    kind: str
    audience: str
    status: str
    urgent: bool
    include_already_told: bool
    recipients: int
    created_at: datetime
    approved_at: datetime | None
    sent_at: datetime | None
    finished_at: datetime | None


class PreviewOut(Schema):
    customers: int
    reachable: int
    held: int
    by_channel: dict[str, int]
    by_language: dict[str, int]
    by_priority: dict[int, int]
    unreachable: dict[str, int]
    english_fallbacks: list[str] = Field(
        default_factory=list,
        description="who would read English instead of their language, and why, e.g. "
        "'ar: 312 recipients get English (no Arabic templates)'",
    )
    already_told: int = 0  # already told this kind about the outage: excluded unless included


class ProgressOut(Schema):
    notice: NoticeOut
    deliveries: dict[str, int]


class ScoreRowOut(Schema):
    group: str
    responses: int
    average: float
    by_score: dict[int, int]


class SurveyResultsOut(Schema):
    outage: str | None
    sent: int
    responses: int
    average: float | None
    by_segment: list[ScoreRowOut]
    by_channel: list[ScoreRowOut]


class InboundIn(Schema):
    sender: str
    text: str
    id: str = ""


class InboundOut(Schema):
    keyword: str
    customer: str | None
    outage: str | None
    reply: str


class SuppressedOut(Schema):
    external_id: str


def _notice(notice_id: int) -> Notice:
    notice = Notice.objects.filter(pk=notice_id).first()
    if notice is None:
        raise NotFound(f"no notice {notice_id}", field="id")
    return notice


@router.post("/notices", response={201: NoticeOut}, summary="Draft a notice")
def create_notice(request: HttpRequest, body: NoticeIn) -> Any:
    who = caller(request)
    who.require(WRITE)
    outage = outage_queries.outage_by_reference(body.outage) if body.outage else None
    notice = services.notice_create(
        actor=who.user,
        kind=body.kind,
        audience=body.audience,
        outage=outage,
        segment=body.segment,
        customers=body.customers,
        message=body.message,
        urgent=body.urgent,
        include_already_told=body.include_already_told,
    )
    return StatusResponse(201, notice)


@router.get(
    "/notices/{notice_id}/preview",
    response=PreviewOut,
    summary="Who it would reach, on which channels, and who it cannot",
)
def preview_notice(request: HttpRequest, notice_id: int) -> Any:
    caller(request).require(READ)
    notice = _notice(notice_id)
    english = [str(fallback) for fallback in preview.english_fallbacks(notice)]
    return {**dataclasses.asdict(audience.count_audience(notice)), "english_fallbacks": english}


@router.post(
    "/notices/{notice_id}/submit",
    response=NoticeOut,
    summary="Send (small) or ask for approval (large)",
)
def submit_notice(request: HttpRequest, notice_id: int) -> Notice:
    who = caller(request)
    who.require(WRITE)
    return services.notice_submit(actor=who.user, notice=_notice(notice_id))


@router.post("/notices/{notice_id}/approve", response=NoticeOut, summary="Second person's approval")
def approve_notice(request: HttpRequest, notice_id: int) -> Notice:
    who = caller(request)
    who.require(WRITE)
    return services.notice_approve(actor=who.user, notice=_notice(notice_id))


@router.post("/notices/{notice_id}/cancel", response=NoticeOut)
def cancel_notice(request: HttpRequest, notice_id: int) -> Notice:
    who = caller(request)
    who.require(WRITE)
    return services.notice_cancel(actor=who.user, notice=_notice(notice_id))


@router.get("/notices/{notice_id}", response=ProgressOut, summary="Delivery progress")
def notice_status(request: HttpRequest, notice_id: int) -> Any:
    caller(request).require(READ)
    notice = _notice(notice_id)
    return {"notice": notice, "deliveries": queries.notice_progress(notice)}


@router.get(
    "/notices/{notice_id}/survey",
    response=SurveyResultsOut,
    summary="Survey scores for the notice's outage, by segment and channel",
)
def survey_results(request: HttpRequest, notice_id: int) -> Any:
    caller(request).require(READ)
    notice = _notice(notice_id)
    found = surveys.survey_results(notice, comments=0)
    return {
        "outage": notice.outage.reference if notice.outage else None,
        "sent": found.sent,
        "responses": found.responses,
        "average": found.average,
        "by_segment": found.by_segment,
        "by_channel": found.by_channel,
    }


@router.post("/inbound/sms", response=InboundOut, summary="An SMS a customer sent us")
def inbound_sms(request: HttpRequest, body: InboundIn) -> Any:
    caller(request).require(INTAKE)
    result = receive_sms(sender=body.sender, text=body.text, provider_id=body.id)
    message = result.message
    return {
        "keyword": message.keyword or "text",
        "customer": message.customer.external_id if message.customer else None,
        "outage": message.outage.reference if message.outage else None,
        "reply": result.reply,
    }


@suppression_router.get(
    "",
    response=list[SuppressedOut],
    summary="Customers in an open outage: suppress promotions to them",
)
@paged
def suppression(request: HttpRequest) -> Any:
    caller(request).require(READ)
    return queries.suppressed_customers()


class _Echo:
    def write(self, value: str) -> str:
        return value


@suppression_router.get(".csv", summary="The suppression list as CSV (streamed)")
def suppression_csv(request: HttpRequest) -> StreamingHttpResponse:
    caller(request).require(READ)
    writer = csv.writer(_Echo())
    header = [("external_id", "open_outages")]
    rows = (writer.writerow(row) for row in chain(header, queries.suppression_rows()))
    response = StreamingHttpResponse(rows, content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="suppression.csv"'
    return response
