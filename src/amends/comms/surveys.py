"""The one-click CSAT survey: a customer's score (1–5) for how we handled an outage, and
the results by outage, segment and channel.

A score arrives by a GET of a link in the survey message (``links.survey_url``/``<score>``):
one click is the whole answer. That GET writes, unlike the unsubscribe link, because a link
scanner that opens every score link leaves at worst the last score, never a second response
(one row per notice and customer) and never a change the customer cannot undo by clicking
again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Avg, Count, QuerySet

from amends.comms.links import SCORES
from amends.comms.models import Delivery, Notice, NoticeKind, SurveyResponse
from amends.core import audit
from amends.core.errors import AmendsError, NotFound

ACTOR = "customer"
COMMENT_MAX = 2000


def check_sent(notice_id: int, customer_id: int) -> str:
    """The channel the customer's survey went by; NotFound if we never sent them this one."""
    channel = (
        Delivery.objects.filter(
            notice_id=notice_id, customer_id=customer_id, notice__kind=NoticeKind.SURVEY
        )
        .order_by("-pk")
        .values_list("channel", flat=True)
        .first()
    )
    if channel is None:
        raise NotFound("this survey link is not one of ours", field="notice")
    return channel


def survey_answer(*, notice_id: int, customer_id: int, score: int) -> SurveyResponse:
    """Record the score, or change the one already given (never a second response)."""
    if score not in SCORES:
        raise AmendsError("choose a score from 1 to 5", field="score")
    channel = check_sent(notice_id, customer_id)
    with transaction.atomic():
        response, created = SurveyResponse.objects.select_for_update().get_or_create(
            notice_id=notice_id,
            customer_id=customer_id,
            defaults={"score": score, "channel": channel},
        )
        before = None if created else {"score": response.score}
        if not created and response.score != score:
            response.score = score
            response.save(update_fields=["score", "updated_at"])
        if created or before != {"score": score}:
            audit.record(ACTOR, "survey.answer", response, before, {"score": score})
    return response


def survey_comment(*, notice_id: int, customer_id: int, comment: str) -> SurveyResponse:
    """Add (or replace) the comment of a response already scored."""
    text = comment.strip()
    if len(text) > COMMENT_MAX:
        raise AmendsError(f"must be at most {COMMENT_MAX} characters", field="comment")
    with transaction.atomic():
        response = (
            SurveyResponse.objects.select_for_update()
            .filter(notice_id=notice_id, customer_id=customer_id)
            .first()
        )
        if response is None:
            raise NotFound("choose a score first", field="score")
        before = {"comment": response.comment}
        response.comment = text
        response.save(update_fields=["comment", "updated_at"])
        audit.record(ACTOR, "survey.comment", response, before, {"comment": text})
    return response


@dataclass(frozen=True)
class ScoreRow:
    """One group's answers: how many, their average, and how many gave each score."""

    group: str
    responses: int
    average: float
    by_score: dict[int, int]


@dataclass(frozen=True)
class SurveyResults:
    sent: int  # survey messages to customers (how many could answer)
    responses: int
    average: float | None
    by_segment: list[ScoreRow]
    by_channel: list[ScoreRow]
    comments: list[tuple[int, str]]  # (score, comment), newest first


def _rows(answers: QuerySet[SurveyResponse], field: str) -> list[ScoreRow]:
    counts = answers.values(field, "score").annotate(n=Count("id")).order_by()
    groups: dict[str, dict[int, int]] = {}
    for row in counts:
        groups.setdefault(row[field], {})[row["score"]] = row["n"]
    return [
        ScoreRow(
            group,
            sum(scores.values()),
            sum(s * n for s, n in scores.items()) / sum(scores.values()),
            {s: scores.get(s, 0) for s in SCORES},
        )
        for group, scores in sorted(groups.items())
    ]


def _about_outage(notice: Notice) -> tuple[QuerySet[SurveyResponse], QuerySet[Delivery]]:
    """The answers and the survey messages about the notice's outage (its own, without one)."""
    if notice.outage_id is None:
        return (
            SurveyResponse.objects.filter(notice=notice),
            Delivery.objects.filter(notice=notice, customer__isnull=False),
        )
    return (
        SurveyResponse.objects.filter(
            notice__outage_id=notice.outage_id, notice__kind=NoticeKind.SURVEY
        ),
        Delivery.objects.filter(
            notice__outage_id=notice.outage_id,
            notice__kind=NoticeKind.SURVEY,
            customer__isnull=False,
        ),
    )


def survey_results(notice: Notice, *, comments: int = 20) -> SurveyResults:
    """Every survey answer about the notice's outage (a customer asked twice answers once per
    notice), by the customer's segment and by the channel the survey reached them on."""
    answers, asked = _about_outage(notice)
    totals = answers.aggregate(n=Count("id"), avg=Avg("score"))
    return SurveyResults(
        sent=asked.count(),
        responses=totals["n"],
        average=totals["avg"],
        by_segment=_rows(answers, "customer__segment"),
        by_channel=_rows(answers, "channel"),
        comments=list(
            answers.exclude(comment="")
            .order_by("-updated_at")
            .values_list("score", "comment")[:comments]
        ),
    )
