"""The demo: the story of one outage, told on the embedded database.

Each capability of Amends adds its chapter here, so `amends demo` always shows the whole
product end to end. Chapters so far: the operator's data (generate → import), its staff, the
outage itself (declare → impact and classification → ETR → partial restoration), and telling
the customers (acknowledge, update, ETR changed, restored: composed, approved by a second
person, dispatched in priority order into the outbox).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count
from django.utils import timezone

from amends.comms.audience import count_audience
from amends.comms.dispatch import run_notice
from amends.comms.models import Notice, NoticeStatus
from amends.comms.queries import notice_progress
from amends.comms.services import notice_approve, notice_create, notice_submit
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.generator import generate
from amends.network.importer import IMPORT_ORDER, ImportResult, run_import
from amends.network.models import NetworkElement, Service
from amends.outages import queries as outage_queries
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_restore, outage_set_etr
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
    return DemoResult(data_dir, imports, credentials, outage)


def publish_the_status_page(*, say: Say) -> None:
    publication = publish_site(trigger="demo", actor="demo")
    say(
        f"9. The public status page is published ({publication.status}: "
        f"{publication.file_count:,} files, {publication.size_bytes / 1024:,.0f} KB) at "
        f"/status/ — no customer on it, just areas, services and times; "
        f"also /status/api/v2/summary.json, /status/feed.atom and /status/lookup?postcode=2000."
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
    say(
        f"   {notice.get_kind_display()}: {preview.reachable:,} of {preview.customers:,} "
        f"customers by {channels or 'no channel'}{held}; {approval}; "
        f"{progress.get('sent', 0):,} sent"
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
    counts = outage_queries.impact_counts(outage)
    say(
        f"   {outage.reference}: {counts.services:,} services of {counts.customers:,} customers "
        f"affected, {counts.priority_assistance_customers:,} on priority assistance"
    )
    say(f"   by state {counts.by_state}; by segment {counts.by_segment}")
    say(
        f"   classified {outage.get_classification_display().lower()}: "
        f"{outage.classification_changes.last().reason}"
    )  # type: ignore[union-attr]
    outage_set_etr(
        actor="commander",
        outage=outage,
        etr=timezone.now() + timedelta(hours=4),
        reason="Crews are on site; the routing change is being rolled back.",
    )
    say("5. ETR set to four hours from now; next update promised within six hours.")
    return outage, exchange


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
