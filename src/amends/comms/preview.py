"""What the notice page shows, read-only.

``notice_preview``: before sending, who the notice reaches and on which channel (by language
and priority), who it cannot reach and why, the SMS segments and cost, how long sending takes
at the providers' rates, and the messages real recipients would get — rendered exactly as the
dispatcher will (``content.message_context`` + ``templating.render`` with the operator's latest
wording). ``delivery_dashboard``: once released, the outbox by status and by channel.
``template_preview``: a template being edited, rendered for the sample customer, with its SMS
length and the save-time checks.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Count

from amends.comms import audience as audiences
from amends.comms import content, languages, queries, templating
from amends.comms.channels.registry import channel_for
from amends.comms.context_providers import recipient_context
from amends.comms.languages import Fallback
from amends.comms.models import (
    Capability,
    Delivery,
    DeliveryStatus,
    MessageTemplate,
    Notice,
    Priority,
)
from amends.env import ConfigurationError
from amends.network.models import Customer

SAMPLE_CHANNELS = 3  # rendered samples: one real recipient for each of the biggest channels
DONE = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
FAILED = (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED, DeliveryStatus.DEAD)
_CHANNEL_LABELS = dict(Capability.choices)


def segment_cost_cents() -> int:
    """What one SMS segment costs the operator, in cents (AMENDS_SMS_SEGMENT_COST_CENTS)."""
    return int(settings.AMENDS_SMS_SEGMENT_COST_CENTS)


def already_told_words(count: int, *, included: bool) -> str:
    """ "N already told — excluded": customers another notice of this kind about the outage
    told already (the console, the CLI)."""
    return f"{count:,} already told — {'included: told again' if included else 'excluded'}"


@dataclass(frozen=True)
class ChannelLine:
    channel: str
    label: str
    recipients: int
    held: int  # waiting for the customer's mobile service to come back
    rate_per_second: float | None  # 0: the provider has no limit; None: not configured
    seconds: float  # to send what can go now, at that rate


@dataclass(frozen=True)
class SmsLine:
    language: str  # the customers' language tag
    recipients: int
    info: templating.SmsInfo | None  # of the message one of them would get
    error: str
    cost_cents: int


@dataclass(frozen=True)
class Sample:
    """The message one real recipient would get on one channel."""

    channel: str
    label: str
    customer: Customer
    language: str  # the template's language (theirs, or the English fallback)
    subject: str = ""
    text: str = ""
    html: str = ""
    error: str = ""
    sms: templating.SmsInfo | None = None


@dataclass(frozen=True)
class NoticePreview:
    counts: audiences.AudienceCounts
    channels: list[ChannelLine]
    languages: list[tuple[str, int]]
    priorities: list[tuple[str, int]]
    sms: list[SmsLine]
    sms_segments: int
    sms_cost_cents: int
    segment_cost_cents: int
    send_seconds: float
    samples: list[Sample] = field(default_factory=list)
    # Recipients who get English (or the outage's own words in English), by language and why.
    fallbacks: list[Fallback] = field(default_factory=list)
    # "Your own words are not in the SMS message (zh)": the notice's message, where the
    # wording a group of SMS or push recipients gets leaves it out.
    words_left_out: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Group:
    """Rank-1 candidates sharing a channel and a language."""

    channel: str
    language: str
    recipients: int
    held: int
    customer_id: int  # one of them, to render a sample for


def _groups(notice: Notice) -> list[_Group]:
    choices, params = audiences.choices_sql(notice)
    with connection.cursor() as cursor:
        cursor.execute(
            # The candidates SQL is built from fixed fragments; every value is a parameter.
            "SELECT channel, language, count(*), sum(held), min(customer_id) "  # noqa: S608
            f"FROM ({choices}) r WHERE channel IS NOT NULL GROUP BY channel, language "
            "ORDER BY count(*) DESC, channel, language",
            params,
        )
        return [
            _Group(channel, language, int(n), int(held or 0), int(customer_id))
            for channel, language, n, held, customer_id in cursor.fetchall()
        ]


def _rate(channel: str) -> float | None:
    try:
        return float(channel_for(channel).rate_per_second)
    except (ConfigurationError, ValueError):
        return None


def _channel_lines(groups: list[_Group]) -> list[ChannelLine]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for group in groups:
        totals[group.channel][0] += group.recipients
        totals[group.channel][1] += group.held
    lines = []
    for channel, (recipients, held) in sorted(totals.items(), key=lambda item: -item[1][0]):
        rate = _rate(channel)
        seconds = (recipients - held) / rate if rate else 0.0
        label = _CHANNEL_LABELS.get(channel, channel)
        lines.append(ChannelLine(channel, label, recipients, held, rate, seconds))
    return lines


def _render(notice: Notice, groups: list[_Group]) -> dict[_Group, Sample]:
    """One real recipient's message per group, made exactly as the dispatcher makes it.

    The dispatcher works on outbox rows; the preview gives it the rows a release would create
    (unsaved), so the context, the customer's own outage window and the choice of the
    operator's wording cannot drift apart from what is really sent.
    """
    customers = Customer.objects.in_bulk({group.customer_id for group in groups})
    rows = {
        group: Delivery(
            notice=notice,
            customer=customers[group.customer_id],
            channel=group.channel,
            language=group.language,
        )
        for group in groups
    }
    affected = content.customer_impacts(list(rows.values()))
    overrides = content.operator_templates(
        [
            Delivery(notice=notice, channel=g.channel, language=content.served_language(g.language))
            for g in groups
        ]
    )
    extra = recipient_context(rows.values())  # e.g. a credit notice's own amounts
    samples = {}
    for group, row in rows.items():
        customer = customers[group.customer_id]
        label = _CHANNEL_LABELS.get(group.channel, group.channel)
        language = content.served_language(row.language)
        override = content.pick_template(overrides, notice.kind, row.channel, language)
        worded_in = templating.template_language(notice.kind, row.channel, language, override)
        context = content.message_context(
            notice,
            customer,
            affected.get((notice.outage_id or 0, customer.pk), content.NO_IMPACT),
            worded_in,
        )
        context.update(extra.get((notice.pk, customer.pk), {}))
        try:
            rendered = templating.render(
                notice.kind, row.channel, language, context, override=override
            )
        except (templating.MissingTemplate, templating.TemplateProblem) as error:
            samples[group] = Sample(row.channel, label, customer, row.language, error=str(error))
            continue
        sms = templating.sms_info(rendered.text) if row.channel == Capability.SMS else None
        samples[group] = Sample(
            row.channel,
            label,
            customer,
            rendered.language,
            rendered.subject,
            rendered.text,
            rendered.html,
            sms=sms,
        )
    return samples


def english_fallbacks(notice: Notice) -> list[Fallback]:
    """Who would read English instead of their language if the notice were sent now."""
    groups = [(g.channel, g.language, g.recipients) for g in _groups(notice)]
    return languages.english_fallbacks(notice, groups)


def sample_message(notice: Notice, *, channel: str, language: str) -> Sample | None:
    """The message one real recipient reading ``language`` gets on ``channel``, made as the
    dispatcher makes it (None when nobody in the audience is reached that way)."""
    group = next(
        (g for g in _groups(notice) if g.channel == channel and g.language == language), None
    )
    return None if group is None else _render(notice, [group])[group]


def notice_preview(notice: Notice) -> NoticePreview:
    """What sending the notice now would do; writes nothing."""
    counts = audiences.count_audience(notice)
    groups = _groups(notice)
    channels = _channel_lines(groups)
    sample_groups: list[_Group] = []
    for line in channels[:SAMPLE_CHANNELS]:  # the biggest language group of each channel
        sample_groups.append(next(g for g in groups if g.channel == line.channel))
    sms_groups = [g for g in groups if g.channel == Capability.SMS]
    short_groups = (
        [g for g in groups if g.channel in _SHORT_CHANNELS] if notice.message.strip() else []
    )
    rendered = _render(notice, list(dict.fromkeys(sample_groups + sms_groups + short_groups)))
    cost = segment_cost_cents()
    sms_lines = []
    for group in sms_groups:
        sample = rendered[group]
        segments = sample.sms.segments if sample.sms else 0
        sms_lines.append(
            SmsLine(
                group.language,
                group.recipients,
                sample.sms,
                sample.error,
                segments * group.recipients * cost,
            )
        )
    sms_segments = sum(line.info.segments * line.recipients for line in sms_lines if line.info)
    priorities = [
        (Priority(priority).label, n) for priority, n in sorted(counts.by_priority.items())
    ]
    return NoticePreview(
        counts=counts,
        channels=channels,
        languages=sorted(counts.by_language.items(), key=lambda item: (-item[1], item[0])),
        priorities=priorities,
        sms=sms_lines,
        sms_segments=sms_segments,
        sms_cost_cents=sms_segments * cost,
        segment_cost_cents=cost,
        send_seconds=max((line.seconds for line in channels), default=0.0),
        samples=[rendered[group] for group in sample_groups],
        fallbacks=languages.english_fallbacks(
            notice, [(g.channel, g.language, g.recipients) for g in groups]
        ),
        words_left_out=_words_left_out(notice.message, [rendered[g] for g in short_groups]),
    )


# The channels whose wording is short enough to leave the notice's own words out.
_SHORT_CHANNELS: dict[str, str] = {Capability.SMS: "SMS", Capability.PUSH: "push"}


def _words_left_out(message: str, samples: list[Sample]) -> list[str]:
    """Where the author's words do not reach: each SMS or push sample (one per language)
    whose rendered message does not contain them."""
    words = " ".join(message.split())
    missing: dict[str, list[str]] = defaultdict(list)
    for sample in samples:
        said = " ".join(f"{sample.subject} {sample.text}".split())
        if not sample.error and words not in said:
            missing[sample.channel].append(sample.language)
    return [
        f"Your own words are not in the {_SHORT_CHANNELS[channel]} message "
        f"({', '.join(sorted(set(languages)))})."
        for channel, languages in missing.items()
    ]


@dataclass(frozen=True)
class ChannelProgress:
    label: str
    counts: list[int]  # in the order of Dashboard.statuses
    total: int


@dataclass(frozen=True)
class Dashboard:
    statuses: list[tuple[str, str]]  # (status, label) of the statuses present, in flow order
    by_status: list[tuple[str, str, int]]
    by_channel: list[ChannelProgress]
    total: int
    done: int  # sent or delivered
    failed: int
    failures: list[Delivery]  # the first 100 failed, bounced or dead, newest first

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def delivery_dashboard(notice: Notice) -> Dashboard:
    """The outbox of a released notice: by status, by channel and status, and what failed."""
    progress = queries.notice_progress(notice)
    statuses = [(s.value, s.label) for s in DeliveryStatus if progress.get(s.value)]
    cells: dict[str, dict[str, int]] = defaultdict(dict)
    rows = (
        Delivery.objects.filter(notice=notice)
        .values_list("channel", "status")
        .order_by()
        .annotate(n=Count("id"))
    )
    for channel, status, n in rows:
        cells[channel][status] = n
    by_channel = [
        ChannelProgress(
            _CHANNEL_LABELS.get(channel, channel),
            [cells[channel].get(status, 0) for status, _ in statuses],
            sum(cells[channel].values()),
        )
        for channel in sorted(cells, key=lambda c: -sum(cells[c].values()))
    ]
    return Dashboard(
        statuses=statuses,
        by_status=[(status, label, progress[status]) for status, label in statuses],
        by_channel=by_channel,
        total=sum(progress.values()),
        done=sum(progress.get(status, 0) for status in DONE),
        failed=sum(progress.get(status, 0) for status in FAILED),
        failures=list(queries.notice_failures(notice)),
    )


@dataclass(frozen=True)
class TemplatePreview:
    """A template being edited, rendered for the sample recipient in its language."""

    subject: str = ""
    text: str = ""
    html: str = ""
    failure: templating.Problem | None = None  # why it does not render for the sample
    problems: list[templating.Problem] = field(default_factory=list)  # why a save is refused
    sms: templating.SmsInfo | None = None
    runs: list[tuple[str, bool]] = field(default_factory=list)  # SMS text; True: forces UCS-2
    ucs2: list[tuple[str, str]] = field(default_factory=list)  # (character, its code and name)


def _runs(text: str, flagged: set[str]) -> list[tuple[str, bool]]:
    runs: list[tuple[str, bool]] = []
    for char in text:
        mark = char in flagged
        if runs and runs[-1][1] == mark:
            runs[-1] = (runs[-1][0] + char, mark)
        else:
            runs.append((char, mark))
    return runs


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, '').lower()}".strip()


def template_preview(
    *, kind: str, channel: str, language: str, sources: dict[str, str]
) -> TemplatePreview:
    """``sources``: subject, body and html as typed. Renders them as the dispatcher would for
    the sample recipient of ``language``; also runs the save-time checks."""
    draft = MessageTemplate(
        kind=kind,
        channel=channel,
        language=language,
        subject=sources.get("subject", ""),
        body=sources.get("body", ""),
        html=sources.get("html", ""),
    )
    parts = {"subject": draft.subject, "text": draft.body, "html": draft.html}
    problems = templating.validate(parts, kind=kind, channel=channel)
    context = templating.sample_context(language, kind=kind)
    try:
        rendered = templating.render(kind, channel, language, context, override=draft)
    except templating.TemplateProblem as error:
        return TemplatePreview(failure=error.problem, problems=problems)
    except templating.MissingTemplate as error:
        return TemplatePreview(
            failure=templating.Problem("text", None, str(error)), problems=problems
        )
    if channel != Capability.SMS:
        return TemplatePreview(rendered.subject, rendered.text, rendered.html, problems=problems)
    sms = templating.sms_info(rendered.text)
    return TemplatePreview(
        rendered.subject,
        rendered.text,
        rendered.html,
        problems=problems,
        sms=sms,
        runs=_runs(rendered.text, set(sms.ucs2_characters)),
        ucs2=[(char, _describe(char)) for char in sms.ucs2_characters],
    )
