"""amends outage declare|show|list|update|etr|status|restore|resolve|scope|translate — outages
from the shell.

Every subcommand calls the same services as the console and API; ``--json`` prints the API's
own representation so scripts can rely on one shape.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from amends.core.commands import DashValueParser, add_examples
from amends.core.errors import AmendsError
from amends.outages import queries, services
from amends.outages.api import OutageDetail, OutageOut
from amends.outages.models import Outage
from amends.outages.scope import UNPLACED_CHOICES, ScopeSpec

SCOPE_HELP = (
    "scope item KIND:VALUE, repeatable: element:EX-123, postcode:2000, state:NSW, "
    "locality:Wagga Wagga/NSW, product:MOB, services:S1;S2, polygon:@area.geojson; "
    "prefix with '-' to exclude (-postcode:2001); add '+PRODUCT' to narrow (element:EX-1+MOB)"
)


def parse_when(value: str | None, field: str) -> datetime | None:
    """ISO 8601; without an offset it is read in the site's time zone."""
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise AmendsError(f"{value!r} is not a date and time like 2026-11-27T13:30", field=field)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _promise(outage: Outage) -> str:
    """ ", next update by …" (or "UPDATE OVERDUE since …") while the outage is open."""
    if not outage.is_open or outage.next_update_by is None:
        return ""
    when = timezone.localtime(outage.next_update_by)
    if outage.next_update_by <= timezone.now():
        return f", UPDATE OVERDUE since {when:%Y-%m-%d %H:%M}"
    return f", next update by {when:%Y-%m-%d %H:%M}"


def parse_scope(text: str, *, unplaced: str = "exclude") -> ScopeSpec:
    """One KIND:VALUE item; ``unplaced`` is what a polygon does with its postcodes' services
    that have no coordinates (see ScopeSpec)."""
    include = not text.startswith("-")
    kind, _, value = text.lstrip("-").partition(":")
    value, _, product = value.partition("+")
    spec = ScopeSpec(kind=kind.strip(), include=include, product=product.strip())
    value = value.strip()
    if spec.kind == "locality":
        spec.locality, _, spec.state = value.partition("/")
    elif spec.kind == "services":
        spec.services = [s.strip() for s in value.split(";") if s.strip()]
    elif spec.kind == "polygon":
        spec.geojson, spec.unplaced = _geojson(value), unplaced
    elif spec.kind == "product":
        spec.product = value
    elif spec.kind in ("element", "postcode", "state"):
        setattr(spec, spec.kind, value)
    return spec


def _geojson(value: str) -> Any:
    try:
        if value.startswith("@"):
            with open(value[1:], encoding="utf-8") as handle:
                return json.load(handle)
        return json.loads(value)
    except (OSError, ValueError) as exc:
        raise AmendsError(f"cannot read GeoJSON: {exc}", field="scope") from None


class Command(BaseCommand):
    help = "Declare, inspect and change outages."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_examples(
            parser,
            'amends outage declare --title "Fibre cut" --scope state:ACT --scope -postcode:2600 '
            "--started 2026-12-07T09:00",
            "amends outage scope OUT-2026-0001 --add postcode:2620 --add=-postcode:2601",
            "amends outage show OUT-2026-0001 --json",
            "amends outage list --open",
            'amends outage update OUT-2026-0001 "Crews are on site."',
            'amends outage etr OUT-2026-0001 unknown --reason "Waiting for a part"',
            'amends outage translate OUT-2026-0001 --language zh --title "光纤中断"',
            "amends outage status OUT-2026-0001 identified",
            "amends outage restore OUT-2026-0001",
            'amends outage resolve OUT-2026-0001 --summary "A contractor cut a fibre; it was '
            'spliced."',
        )
        sub = parser.add_subparsers(dest="action", required=True, parser_class=DashValueParser)
        declare = sub.add_parser("declare", help="declare an outage")
        declare.add_argument("--title", required=True)
        declare.add_argument("--scope", action="append", required=True, help=SCOPE_HELP)
        declare.add_argument("--summary", default="")
        declare.add_argument("--cause", default="", help="public cause")
        declare.add_argument("--internal-cause", default="")
        declare.add_argument("--severity", default="major")
        declare.add_argument("--started", help="ISO time (default now)")
        declare.add_argument("--etr", help="ISO time of the estimated restoration")
        declare.add_argument("--natural-disaster", action="store_true")
        for name in ("show", "list", "update", "etr", "status", "restore", "resolve", "scope"):
            sub_parser = sub.add_parser(name)
            if name != "list":
                sub_parser.add_argument("reference")
            sub_parser.add_argument("--json", action="store_true")
        declare.add_argument("--json", action="store_true")
        sub.choices["list"].add_argument("--open", action="store_true")
        sub.choices["update"].add_argument("message")
        sub.choices["update"].add_argument("--internal", action="store_true")
        sub.choices["etr"].add_argument("etr", help="ISO time, or 'unknown'")
        sub.choices["etr"].add_argument("--reason", default="")
        for name, blank in (
            ("etr", "keep the published promise while it is ahead, else six hours"),
            ("update", "six hours"),
        ):
            sub.choices[name].add_argument(
                "--next-update-by",
                help=f"ISO time of the next promised update (default: {blank}; "
                "never after the ETR)",
            )
        sub.choices["status"].add_argument("to")
        sub.choices["status"].add_argument("--message", default="")
        for name in ("status", "resolve"):
            sub.choices[name].add_argument(
                "--summary",
                default="",
                help="what happened, in the past tense (required to resolve): what the "
                "restored, apology and credit messages say",
            )
        sub.choices["restore"].add_argument(
            "--scope", type=int, action="append", help="scope item id (default: all)"
        )
        sub.choices["restore"].add_argument("--at", help="ISO time (default now)")
        sub.choices["restore"].add_argument("--message", default="")
        sub.choices["resolve"].add_argument("--message", default="")
        sub.choices["scope"].add_argument("--add", action="append", default=[], help=SCOPE_HELP)
        sub.choices["scope"].add_argument("--remove", type=int, action="append", default=[])
        for name in ("declare", "scope"):
            sub.choices[name].add_argument(
                "--unplaced",
                choices=list(UNPLACED_CHOICES),
                default="exclude",
                help="polygon: services in its postcodes without coordinates are left out "
                "(exclude, the default) or matched by their postcode",
            )
        translate = sub.add_parser(
            "translate", help="the title, summary and cause in another language (replaces its own)"
        )
        translate.add_argument("reference")
        translate.add_argument("--json", action="store_true")
        translate.add_argument("--language", required=True, help="e.g. zh or vi")
        translate.add_argument("--title", default="")
        translate.add_argument("--summary", default="", help="public summary")
        translate.add_argument("--cause", default="", help="public cause")
        translate.add_argument("--resolution", default="", help="what happened (restoration)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outage, impact = getattr(self, f"_{options['action']}")(options)
        except AmendsError as exc:
            raise CommandError(str(exc)) from None
        if outage is not None:
            self._print(outage, impact, as_json=options["json"])

    def _print(self, outage: Outage, impact: Any, *, as_json: bool) -> None:
        outage.refresh_from_db()
        if as_json:
            data = OutageDetail.from_orm(outage).dict()
            if impact is not None:
                data["impact"] = impact.__dict__
            data["counts"] = queries.impact_counts(outage).__dict__
            self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2))
            return
        counts = queries.impact_counts(outage)
        etr = timezone.localtime(outage.etr).strftime("%Y-%m-%d %H:%M") if outage.etr else "unknown"
        self.stdout.write(
            f"{outage.reference}  {outage.title}\n"
            f"  status {outage.status}, {outage.get_classification_display().lower()}, "
            f"ETR {etr}{_promise(outage)}\n"
            f"  affected: {counts.services:,} services of {counts.customers:,} customers "
            f"({counts.outage_still_out:,} still out, {counts.reported_still_out:,} reported "
            "still out by customers; "
            f"{counts.priority_assistance_customers:,} on priority assistance)\n"
            f"  by state: {counts.by_state}; by segment: {counts.by_segment}"
        )
        for item in outage.scope_items.all():
            restored = item.restored_at and timezone.localtime(item.restored_at)
            state = f"restored {restored:%Y-%m-%d %H:%M}" if restored else "open"
            self.stdout.write(f"  scope #{item.pk}: {item} ({state})")
        if impact is not None:
            self.stdout.write(
                f"  change: {impact.newly_affected:,} newly affected, "
                f"{impact.no_longer_affected:,} no longer affected"
            )

    def _declare(self, o: dict[str, Any]) -> tuple[Outage, Any]:
        change = services.outage_declare(
            actor="cli",
            title=o["title"],
            summary=o["summary"],
            cause_public=o["cause"],
            cause_internal=o["internal_cause"],
            severity=o["severity"],
            started_at=parse_when(o["started"], "started"),
            etr=parse_when(o["etr"], "etr"),
            natural_disaster=o["natural_disaster"],
            scope_items=[parse_scope(text, unplaced=o["unplaced"]) for text in o["scope"]],
        )
        return change.outage, change.impact

    def _translate(self, o: dict[str, Any]) -> tuple[Outage, None]:
        texts = {
            "title": o["title"],
            "public_summary": o["summary"],
            "cause_public": o["cause"],
            "resolution_summary": o["resolution"],
        }
        outage = services.outage_translate(
            actor="cli",
            outage=queries.outage_by_reference(o["reference"]),
            language=o["language"],
            texts=texts,
        )
        return outage, None

    def _show(self, o: dict[str, Any]) -> tuple[Outage, None]:
        return queries.outage_by_reference(o["reference"]), None

    def _list(self, o: dict[str, Any]) -> tuple[None, None]:
        outages = queries.open_outages() if o["open"] else Outage.objects.all()
        rows = list(outages.order_by("-started_at")[:200])
        if o["json"]:
            data = [OutageOut.from_orm(outage).dict() for outage in rows]
            self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2))
        for outage in [] if o["json"] else rows:
            self.stdout.write(
                f"{outage.reference}  {outage.status:<13} "
                f"{outage.affected_services:>10,}  {outage.title}"
            )
        return None, None

    def _update(self, o: dict[str, Any]) -> tuple[Outage, None]:
        outage = queries.outage_by_reference(o["reference"])
        services.outage_post_update(
            actor="cli",
            outage=outage,
            message=o["message"],
            visibility="internal" if o["internal"] else "public",
            next_update_by=parse_when(o["next_update_by"], "next_update_by"),
        )
        return outage, None

    def _etr(self, o: dict[str, Any]) -> tuple[Outage, None]:
        outage = queries.outage_by_reference(o["reference"])
        etr = None if o["etr"].lower() == "unknown" else parse_when(o["etr"], "etr")
        return services.outage_set_etr(
            actor="cli",
            outage=outage,
            etr=etr,
            next_update_by=parse_when(o["next_update_by"], "next_update_by"),
            reason=o["reason"],
        ).outage, None

    def _status(self, o: dict[str, Any]) -> tuple[Outage, Any]:
        change = services.outage_transition(
            actor="cli",
            outage=queries.outage_by_reference(o["reference"]),
            to=o["to"],
            message=o["message"],
            resolution_summary=o["summary"],
        )
        return change.outage, change.impact

    def _restore(self, o: dict[str, Any]) -> tuple[Outage, Any]:
        change = services.outage_restore(
            actor="cli",
            outage=queries.outage_by_reference(o["reference"]),
            item_ids=o["scope"],
            at=parse_when(o["at"], "at"),
            message=o["message"],
        )
        return change.outage, change.impact

    def _resolve(self, o: dict[str, Any]) -> tuple[Outage, Any]:
        return self._status({**o, "to": "resolved"})

    def _scope(self, o: dict[str, Any]) -> tuple[Outage, Any]:
        outage = queries.outage_by_reference(o["reference"])
        impact = None
        if o["add"]:
            impact = services.outage_add_scope(
                actor="cli",
                outage=outage,
                items=[parse_scope(text, unplaced=o["unplaced"]) for text in o["add"]],
            ).impact
        for item_id in o["remove"]:
            impact = services.outage_remove_scope(
                actor="cli", outage=outage, item_id=item_id
            ).impact
        return outage, impact
