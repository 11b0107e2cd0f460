"""The demo: the story of one outage, told on the embedded database.

Each capability of Amends adds its chapter here, so `amends demo` always shows the whole
product end to end. Chapters so far: the operator's data (generate → import), its staff, the
outage itself (declare → impact and classification → ETR → partial restoration), telling
the customers (acknowledge, update, ETR changed, restored: composed, approved by a second
person, dispatched in priority order into the outbox), the public status page, the public
beyond the customers (a neighbour's status-page subscription, confirmed by its link, and the
operator's social account, posting to the outbox), and making good (the rest restored; a
remediation program under the pro-rata preset with small-business goodwill and SLA credits for
business and enterprise services restored late, calculated by the analyst and approved by a
second person; bill credits exported to billing, confirmed back, and
one "we've credited your account" notice with each customer's amount in the outbox, as far as
their quiet hours allow), and the program's report for the regulator as PDF.
"""

from __future__ import annotations

import csv
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Max, Sum
from django.utils import timezone

from amends.comms.audience import count_audience
from amends.comms.dispatch import run_notice
from amends.comms.models import Delivery, DeliveryStatus, Notice, NoticeStatus, Subscriber
from amends.comms.preview import already_told_words, sample_message
from amends.comms.queries import notice_progress
from amends.comms.services import notice_approve, notice_create, notice_submit
from amends.comms.subscriber_messages import send_confirmation
from amends.comms.subscribers import (
    SubscriptionRequest,
    confirm_token,
    subscriber_confirm,
    subscriber_request,
)
from amends.comms.surveys import survey_answer, survey_comment, survey_results
from amends.core.money import format_cents
from amends.core.pdf import PdfUnavailable
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.generator import generate
from amends.network.importer import IMPORT_ORDER, ImportResult, run_import
from amends.network.models import NetworkElement, Service
from amends.outages import queries as outage_queries
from amends.outages.models import Impact, Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import (
    outage_declare,
    outage_restore,
    outage_set_etr,
    outage_transition,
    outage_translate,
)
from amends.remedy.models import Payout, PayoutStatus, Program
from amends.remedy.policy import PRESETS
from amends.remedy.services import approval, confirmations, credit_notices, payment_files, payments
from amends.remedy.services.calculation import calculate
from amends.remedy.services.programs import policy_create, program_create
from amends.remedy.services.report import program_report
from amends.remedy.views.report import render_report_pdf
from amends.statuspage import social
from amends.statuspage.publish import publish_site

DEMO_USERS = {
    "viewer": Role.VIEWER,
    "agent": Role.AGENT,
    "comms": Role.COMMUNICATIONS,
    "commander": Role.COMMANDER,
    "analyst": Role.REMEDIATION_ANALYST,
    "approver": Role.APPROVER,
    "admin": Role.ADMIN,
}

Say = Callable[[str], None]


@dataclass
class DemoResult:
    data_dir: Path
    imports: list[ImportResult]
    credentials: dict[str, tuple[str, str]]  # username -> (role, password)
    outage: Outage
    program: Program


def run_demo(*, customers: int, seed: int, say: Say) -> DemoResult:
    data_dir = Path(settings.DATA_DIR) / "demo"
    imports = build_operator(customers=customers, seed=seed, data_dir=data_dir, say=say)
    credentials = create_staff(say=say)
    outage, exchange = declare_the_outage(say=say)
    say(
        "6. The communications lead tells them (priority assistance first; a second person "
        "approves each mass send) …"
    )
    _send("acknowledge", "all_affected", outage, say=say)
    restore_part(outage, exchange, say=say)
    tell_the_progress(outage, say=say)
    publish_the_status_page(say=say)
    tell_the_public(outage, say=say)
    program = make_good(outage, data_dir=data_dir, say=say)
    return DemoResult(data_dir, imports, credentials, outage, program)


def publish_the_status_page(*, say: Say) -> None:
    publication = publish_site(trigger="demo", actor="demo")
    say(
        f"9. The public status page is published ({publication.status}: "
        f"{publication.file_count:,} files, {publication.size_bytes / 1024:,.0f} KB) at "
        f"/status/ — no customer on it, just areas, services and times; "
        f"also /status/api/v2/summary.json, /status/feed.atom and /status/lookup?postcode=2000."
    )


# An account on a host that never resolves: with the embedded outbox (the demo's default) the
# post becomes a file, and no configuration or network is needed.
DEMO_SOCIAL_URL = "mastodon://demo-token@social.example.invalid"


def tell_the_public(outage: Outage, *, say: Say) -> None:
    """A neighbour who is not a customer subscribes to the outage's postcode, and the latest
    public update goes to the operator's social account."""
    postcode = (
        Impact.objects.filter(outage=outage, window_end__isnull=True)
        .values_list("service__postcode", flat=True)
        .first()
    )
    request = SubscriptionRequest("email", "neighbour@example.com", "postcode", postcode, "en")
    subscriber_request(request=request)
    subscriber = Subscriber.objects.get(address="neighbour@example.com", value=postcode)
    send_confirmation(subscriber.pk)  # the task would, once the worker runs
    subscriber_confirm(token=confirm_token(subscriber))  # as the emailed link does
    latest = outage.updates.filter(visibility="public").order_by("-id").first()
    assert latest is not None
    social.post_update(latest.pk, urls=[DEMO_SOCIAL_URL])
    say(
        f"10. A neighbour subscribes at /status/subscribe to postcode {postcode} (the "
        "confirmation email is in the outbox; its link confirmed it): every public change now "
        "reaches them through the task worker. The latest update is posted to the operator's "
        "social account (a file in outbox/social; apprise with AMENDS_SOCIAL_URLS for real)."
    )


def build_operator(*, customers: int, seed: int, data_dir: Path, say: Say) -> list[ImportResult]:
    say(f"1. Generating an operator with {customers:,} customers into {data_dir} …")
    counts = generate(customers=customers, out_dir=data_dir, seed=seed)
    say("   " + ", ".join(f"{n:,} {kind}" for kind, n in counts.items()))
    say("2. Importing it (validated, all-or-nothing, upsert by external id) …")
    imports = [run_import(kind, data_dir / f"{kind}.csv", actor="demo") for kind in IMPORT_ORDER]
    for result in imports:
        say(
            f"   {result.kind:<9} {result.rows:>9,} rows: {result.created:,} created, "
            f"{result.updated:,} updated, {result.unchanged:,} unchanged ({result.seconds:.1f} s)"
        )
    return imports


def create_staff(*, say: Say) -> dict[str, tuple[str, str]]:
    say("3. Creating one staff account per role …")
    credentials = {}
    for username, role in DEMO_USERS.items():
        password = secrets.token_urlsafe(9)
        staff_user_set(actor="demo", username=username, role=role, password=password)
        credentials[username] = (role, password)
    return credentials


def _busiest(depth: int, *, outside: str = "") -> NetworkElement:
    """The element at ``depth`` of the tree (1 core, 2 region, 3 exchange) with the most
    services under it, ignoring the subtree at path ``outside``."""
    per_leaf = Service.objects.values_list("element__path").annotate(n=Count("id"))
    totals: Counter[str] = Counter()
    for path, count in per_leaf:
        if path and not (outside and path.startswith(outside)):
            totals["/".join(path.split("/")[: depth + 1]) + "/"] += count
    busiest, _ = totals.most_common(1)[0]
    return NetworkElement.objects.get(path=busiest)


def _send(kind: str, audience: str, outage: Outage, *, message: str = "", say: Say) -> Notice:
    """Compose as the communications lead, approve as the approver, dispatch to the outbox."""
    comms, approver = User.objects.get(username="comms"), User.objects.get(username="approver")
    notice = notice_create(
        actor=comms, kind=kind, audience=audience, outage=outage, message=message
    )
    preview = count_audience(notice)
    notice = notice_submit(actor=comms, notice=notice)
    if notice.status == NoticeStatus.AWAITING_APPROVAL:
        notice = notice_approve(actor=approver, notice=notice)
    approval = (
        f"approved by {notice.approved_by.username}"
        if notice.approved_by
        else "small enough to go without a second approval"
    )
    run_notice(notice.pk, budget_seconds=600)
    progress = notice_progress(notice)
    channels = ", ".join(f"{n:,} {c}" for c, n in sorted(preview.by_channel.items()))
    held = f"; {preview.held:,} held until their mobile service is back" if preview.held else ""
    told = (
        f"; {already_told_words(preview.already_told, included=False)} (nobody hears it twice)"
        if preview.already_told
        else ""
    )
    say(
        f"   {notice.get_kind_display()}: {preview.reachable:,} of {preview.customers:,} "
        f"customers by {channels or 'no channel'}{held}{told}; {approval}; "
        f"{progress.get('sent', 0):,} sent{_waiting(notice)}"
    )
    return notice


def tell_the_progress(outage: Outage, *, say: Say) -> None:
    say(
        '8. … and keeps them posted: progress, the new restoration time, and "it\'s back" to '
        "those restored …"
    )
    _send(
        "update",
        "still_affected",
        outage,
        say=say,
        message="Engineers have found the faulty router and are rolling the change back.",
    )
    outage_set_etr(
        actor="commander",
        outage=outage,
        etr=timezone.now() + timedelta(hours=6),
        reason="The rollback is taking longer than planned.",
    )
    _send("etr_changed", "still_affected", outage, say=say)
    _send("restored", "restored", outage, say=say)
    outbox = Path(settings.DATA_DIR) / "outbox"
    files = sum(1 for path in outbox.rglob("*") if path.is_file())
    say(f"   The messages are real files in {outbox} ({files:,} so far): open any .eml.")


def declare_the_outage(*, say: Say) -> tuple[Outage, NetworkElement]:
    region = _busiest(2)
    exchange = _busiest(3, outside=region.path)
    say(
        f"4. Alarms fire; the commander declares: fibre cut at {exchange.name} and a routing "
        f"fault across {region.name} …"
    )
    change = outage_declare(
        actor="commander",
        title=f"Internet and mobile outage: {region.name} and {exchange.name}",
        summary="Internet, home phone and mobile services are down. We are working to fix it.",
        cause_public="a routing fault in our network and a damaged fibre cable",
        cause_internal="Core router config push (CHG-1234); fibre cut by roadworks.",
        started_at=timezone.now() - timedelta(minutes=95),
        scope_items=[
            ScopeSpec(kind="element", element=exchange.external_id),
            ScopeSpec(kind="element", element=region.external_id),
        ],
    )
    outage = change.outage
    for language, words in OUTAGE_WORDS.items():
        outage_translate(actor="commander", outage=outage, language=language, texts=words)
    counts = outage_queries.impact_counts(outage)
    say(
        f"   {outage.reference}: {counts.services:,} services of {counts.customers:,} customers "
        f"affected, {counts.priority_assistance_customers:,} on priority assistance"
    )
    say(f"   by state {counts.by_state}; by segment {counts.by_segment}")
    latest = outage.classification_changes.last()
    reason = latest.reason if latest is not None else ""
    say(f"   classified {outage.get_classification_display().lower()}: {reason}")
    outage_set_etr(
        actor="commander",
        outage=outage,
        etr=timezone.now() + timedelta(hours=4),
        reason="Crews are on site; the routing change is being rolled back.",
    )
    say(
        "5. ETR set to four hours from now; next update promised within six hours. The "
        "commander gives the outage its words in Chinese and Vietnamese too, so those customers "
        "read every line in their language."
    )
    return outage, exchange


# The outage's public words in the other languages the demo's customers speak.
OUTAGE_WORDS = {
    "zh": {
        "title": "互联网和移动服务中断",
        "public_summary": "互联网、固定电话和移动服务中断。我们正在抢修。",
        "cause_public": "网络路由故障和一条受损的光缆",
        "resolution_summary": "路由变更已回滚，受损光缆已修复，所有服务已恢复。",
    },
    "vi": {
        "title": "Sự cố internet và di động",
        "public_summary": "Dịch vụ internet, điện thoại cố định và di động bị gián đoạn. "
        "Chúng tôi đang khắc phục.",
        "cause_public": "lỗi định tuyến trong mạng và một cáp quang bị hỏng",
        "resolution_summary": "Thay đổi định tuyến đã được hoàn tác và cáp quang đã được sửa; "
        "mọi dịch vụ đã có lại.",
    },
}
WHAT_HAPPENED = (
    "A routing change in our core network went wrong and roadworks cut a fibre cable; we "
    "rolled the change back and repaired the cable."
)


def restore_part(outage: Outage, exchange: NetworkElement, *, say: Say) -> None:
    exchange_item = outage.scope_items.get(element=exchange)
    restored = outage_restore(
        actor="commander",
        outage=outage,
        item_ids=[exchange_item.pk],
        message=f"Services at {exchange.name} are back on.",
    )
    assert restored.impact is not None
    say(
        f"7. {exchange.name} is repaired: {restored.impact.no_longer_affected:,} services back; "
        f"{restored.impact.affected_now:,} still out in the rest of the outage."
    )
    outage.refresh_from_db()


def make_good(outage: Outage, *, data_dir: Path, say: Say) -> Program:
    """Everything comes back; then the remediation analyst makes good, a second person
    approves, billing credits each account, and each customer hears their own amount."""
    outage_restore(actor="commander", outage=outage, message="Every service is back on.")
    tell_everyone_it_is_over(outage, say=say)
    program = _approved_program(outage, say=say)
    _pay_everyone(program, data_dir=data_dir, say=say)
    tell_the_credits(program, say=say)
    ask_how_we_did(outage, say=say)
    write_the_report(program, data_dir=data_dir, say=say)
    return program


def tell_everyone_it_is_over(outage: Outage, *, say: Say) -> None:
    """Everything is back: the commander resolves with what happened (in the past tense, for
    the messages from now on); the rest are told "it's back" (those told after the partial
    restoration are left out), and everyone gets the apology."""
    outage_transition(
        actor="commander", outage=outage, to="resolved", resolution_summary=WHAT_HAPPENED
    )
    stale = Delivery.objects.filter(notice__outage=outage, status=DeliveryStatus.SUPERSEDED).count()
    say(
        f"11. Every service is back and the commander resolves the outage, saying what happened. "
        f"{stale:,} messages that had not gone yet were out of date by then (texts held for "
        f"mobiles that were down, updates waiting for quiet hours to end) and were superseded: "
        f"never sent."
    )
    _send("restored", "restored", outage, say=say)
    _send("apology", "all_affected", outage, say=say)


# The generator gives small businesses' services the business tier and enterprise and
# government customers' the enterprise tier; the demo's outage lasts about an hour and a half.
DEMO_SLA_CREDITS = {
    "business": {
        "restore_within_minutes": 60,
        "percent_per_block": 5,
        "block_minutes": 30,
        "max_percent": 50,
    },
    "enterprise": {
        "restore_within_minutes": 30,
        "percent_per_block": 10,
        "block_minutes": 30,
        "max_percent": 100,
    },
}


def _approved_program(outage: Outage, *, say: Say) -> Program:
    analyst, approver = User.objects.get(username="analyst"), User.objects.get(username="approver")
    document = {
        **PRESETS["pro_rata"].as_json(),
        "description": "Pro-rata credit for the time lost, plus $20 goodwill to small businesses "
        "and the SLA credits of business (1 h) and enterprise (30 min) services restored late.",
        "goodwill_cents": {"small_business": 2000},
        "sla_credits": DEMO_SLA_CREDITS,
    }
    version = policy_create(analyst, "Pro-rata with small-business goodwill", document, "pro_rata")
    program = program_create(analyst, f"Making good {outage.reference}", [outage], version)
    calculation = calculate(analyst, program)
    approval.program_submit(actor=analyst, program=program)
    program = approval.program_approve(actor=approver, program=program, version=calculation.version)
    credited = calculation.entitlements.filter(sla_cents__gt=0)
    sla_cents = credited.aggregate(total=Sum("sla_cents"))["total"] or 0
    say(
        f"12. The remediation analyst opens {program.reference} under "
        f"the pro-rata preset plus $20 goodwill for small businesses and SLA credits for "
        f"business and enterprise services restored late: "
        f"{calculation.affected_customers:,} customers affected, "
        f"{calculation.eligible_customers:,} eligible, {format_cents(calculation.total_cents)} "
        f"owed ({format_cents(sla_cents)} of it SLA credits to {credited.count():,} "
        f"customers); approved by {approver.username}, a second person "
        f"(/remedy/{program.reference}/review/)."
    )
    return program


def _pay_everyone(program: Program, *, data_dir: Path, say: Say) -> None:
    """Bill credits (and refunds, when a former customer with payment details is owed one)
    exported for billing and confirmed back."""
    payments.payouts_create(actor=User.objects.get(username="analyst"), program=program)
    owed = set(Payout.objects.filter(program=program).values_list("method", flat=True))
    files = [_pay(program, method, data_dir) for method in payments.EXPORTABLE if method in owed]
    paid = Payout.objects.filter(program=program, status=PayoutStatus.PAID)
    paid_cents = paid.aggregate(total=Sum("amount_cents"))["total"] or 0
    say(
        f"13. Billing gets {', '.join(str(exported) for exported, _ in files)}; its answer "
        f"({', '.join(str(answer) for _, answer in files)}) is imported back, checked whole: "
        f"{paid.count():,} payouts paid, {format_cents(paid_cents)} in all."
    )


def _pay(program: Program, method: str, data_dir: Path) -> tuple[Path, Path]:
    """Export one method's batch for billing and import billing's answer: every line paid."""
    analyst = User.objects.get(username="analyst")
    batch = payments.batch_export(actor=analyst, program=program, method=method).batch
    exported = data_dir / payment_files.file_name(batch)
    with exported.open("wb") as handle:
        payment_files.write(batch, handle)
    answer = data_dir / f"{batch.batch_id}-confirmed.csv"
    with exported.open(newline="") as rows, answer.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["payout_id", "status", "billing_reference", "reason"])
        for row in csv.DictReader(rows):  # as billing would: one answer per line it applied
            writer.writerow([row["payout_id"], "paid", f"INV-{row['payout_id']}", ""])
    confirmations.confirmations_import(actor=analyst, program=program, path=answer)
    return exported, answer


def tell_the_credits(program: Program, *, say: Say) -> None:
    """One "credit applied" notice to every paid customer, approved by the approver when large,
    dispatched to the outbox as far as each customer's quiet hours and hourly cap allow."""
    comms, approver = User.objects.get(username="comms"), User.objects.get(username="approver")
    (notice,) = credit_notices.credit_notices_send(actor=comms, program=program)
    if notice.status == NoticeStatus.AWAITING_APPROVAL:
        notice = notice_approve(actor=approver, notice=notice)
    approved_by = (
        f"approved by {notice.approved_by.username}"
        if notice.approved_by
        else "small enough to go without a second approval"
    )
    run_notice(notice.pk, budget_seconds=600)
    progress = notice_progress(notice)
    sent = progress.get(DeliveryStatus.SENT, 0) + progress.get(DeliveryStatus.DELIVERED, 0)
    held = progress.get(DeliveryStatus.HELD, 0)
    held_text = f"; {held:,} held until their mobile service is back" if held else ""
    outbox = Path(settings.DATA_DIR) / "outbox"
    say(
        f'14. "We\'ve credited your account": one notice to the {notice.recipients:,} paid '
        f"customers we can reach ({approved_by}), each message with the customer's own amount "
        f"and how it was worked out: {sent:,} are in {outbox}{held_text}"
        f"{_waiting(notice)}. "
        f"The program's report: /remedy/programs/{program.reference}/report/"
    )
    _show_a_message(notice, language="zh", say=say)


def _show_a_message(notice: Notice, *, language: str, say: Say) -> None:
    """The SMS a customer reading ``language`` gets from the notice, made as the dispatcher
    makes it (whether theirs has gone yet or waits for their quiet hours)."""
    sample = sample_message(notice, channel="sms", language=language)
    if sample is None or sample.error:
        return
    say(f"   What {sample.customer.external_id}, who reads {language}, gets by SMS:")
    for line in sample.text.splitlines():
        say(f"     {line}")


def ask_how_we_did(outage: Outage, *, say: Say) -> None:
    """The survey: one-click scores in each message; one customer answers, as following the
    link does, and the console and API show the results by segment and channel."""
    notice = _send("survey", "all_affected", outage, say=say)
    answered = (
        Delivery.objects.filter(
            notice=notice, status__in=(DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
        )
        .order_by("pk")
        .first()
    )
    if answered is not None and answered.customer_id is not None:
        survey_answer(notice_id=notice.pk, customer_id=answered.customer_id, score=4)
        survey_comment(
            notice_id=notice.pk,
            customer_id=answered.customer_id,
            comment="Thanks for the texts, and for the credit without asking.",
        )
    results = survey_results(notice)
    average = f", average {results.average:.1f} of 5" if results.average is not None else ""
    say(
        f"15. The survey asks how we did, a score from 1 to 5 one click away: "
        f"{results.responses:,} answered so far{average} (/notices/{notice.pk}/ and "
        f"GET /api/v1/comms/notices/{notice.pk}/survey show them by segment and channel)."
    )


def _waiting(notice: Notice) -> str:
    """What the dispatcher deferred and why: a message that is not urgent waits for the end of
    the customer's quiet hours, or for an hour in which they were sent fewer than
    AMENDS_CUSTOMER_HOURLY_CAP messages. The rows record neither reason: the capped customers
    are counted here, and any other waiting message waits for quiet hours to end."""
    waiting = Delivery.objects.filter(notice=notice, status=DeliveryStatus.QUEUED)
    last = waiting.aggregate(last=Max("next_attempt_at"))["last"]
    if last is None:
        return ""
    cap = settings.AMENDS_CUSTOMER_HOURLY_CAP
    at_cap = (
        Delivery.objects.filter(
            status__in=(DeliveryStatus.SENT, DeliveryStatus.DELIVERED),
            sent_at__gte=timezone.now() - timedelta(hours=1),
        )
        .values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=cap)
        .values("customer_id")
    )
    capped = waiting.filter(customer_id__in=at_cap).count()
    also = f" or, for {capped:,} sent {cap} messages this hour, the hour to pass" if capped else ""
    return (
        f"; {waiting.count():,} wait, as messages that are not urgent do, for the end of the "
        f"customer's quiet hours{also}; the task worker (amends serve) sends each when it is "
        f"due, the last at {timezone.localtime(last):%H:%M} ({settings.TIME_ZONE} time)"
    )


def write_the_report(program: Program, *, data_dir: Path, say: Say) -> None:
    """The report as the remediation lead attaches it for the regulator. Without the Pango
    libraries there is no PDF: the demo says why and goes on (the console has the report)."""
    path = data_dir / f"{program.reference}-report.pdf"
    try:
        path.write_bytes(render_report_pdf(program_report(program)))
    except PdfUnavailable as exc:
        say(f"16. No PDF of the report: {exc.message}")
        return
    say(
        f"16. The remediation lead's report for the regulator, with its charts, as PDF: {path} "
        f"({path.stat().st_size:,} bytes; the same as /remedy/programs/{program.reference}"
        f"/report/ and its CSV in the console)."
    )
