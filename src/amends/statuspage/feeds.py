"""The machine-readable files: Statuspage v2 JSON, the Atom feed, the outage register and the
lookup index (per postcode, and per locality in shards: see ``area_lookup``).

The JSON follows the field names and shapes of Atlassian Statuspage's public v2 API (``page``,
``status``, ``components``, ``incidents`` with ``incident_updates``,
``scheduled_maintenances``) so existing widgets and aggregators read it unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone

from amends.statuspage.queries import (
    LocalityEntry,
    LookupEntry,
    PublicOutage,
    PublicUpdate,
    SiteSnapshot,
)
from amends.statuspage.strings import Strings

INCIDENTS_LIMIT = 50  # as Statuspage's incidents.json
FEED_LIMIT = 50

# Our outage statuses in Statuspage's incident vocabulary (it has no "restoring" or "closed").
INCIDENT_STATUS = {
    "investigating": "investigating",
    "identified": "identified",
    "restoring": "identified",
    "monitoring": "monitoring",
    "resolved": "resolved",
    "closed": "resolved",
}
INDICATOR_RANK = ("none", "minor", "major", "critical")
INDICATOR_DESCRIPTION = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
}


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="milliseconds")


def dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _page(site: SiteSnapshot) -> dict[str, Any]:
    latest = max((o.updated_at for o in site.history), default=site.generated_at)
    return {
        "id": "amends",
        "name": Strings("en")("site_title", operator=site.operator),
        "url": site.base_url,
        "time_zone": str(timezone.get_current_timezone()),
        "updated_at": iso(max(latest, site.generated_at)),
    }


def _impact(outage: PublicOutage) -> str:
    return outage.severity if outage.severity in INDICATOR_RANK else "minor"


def status_indicator(site: SiteSnapshot) -> dict[str, str]:
    rank = max((INDICATOR_RANK.index(_impact(o)) for o in site.current), default=0)
    indicator = INDICATOR_RANK[rank]
    return {"indicator": indicator, "description": INDICATOR_DESCRIPTION[indicator]}


def _component(site: SiteSnapshot, index: int) -> dict[str, Any]:
    component = site.components[index]
    data: dict[str, Any] = {
        "id": component.id,
        "name": component.name,
        "status": component.status,
        "created_at": None,
        "updated_at": iso(site.generated_at),
        "position": component.position,
        "description": None,
        "showcase": component.group_id is None,
        "start_date": None,
        "group_id": component.group_id,
        "page_id": "amends",
        "group": bool(component.children),
        "only_show_if_degraded": False,
    }
    if component.children:
        data["components"] = list(component.children)
    return data


def components(site: SiteSnapshot) -> list[dict[str, Any]]:
    return [_component(site, i) for i in range(len(site.components))]


def _affected_components(site: SiteSnapshot, outage: PublicOutage) -> list[str]:
    states = {area.state for area in outage.areas}
    return [
        c.id
        for c in site.components
        if c.group_id in outage.kinds and c.id.rsplit("-", 1)[-1].upper() in states
    ]


def _incident_update(outage: PublicOutage, update: PublicUpdate) -> dict[str, Any]:
    return {
        "id": f"{outage.reference}-{update.id}",
        "status": INCIDENT_STATUS[update.status],
        "body": update.message,
        "incident_id": outage.reference,
        "created_at": iso(update.created_at),
        "updated_at": iso(update.created_at),
        "display_at": iso(update.created_at),
        "affected_components": None,
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident(site: SiteSnapshot, outage: PublicOutage) -> dict[str, Any]:
    status = INCIDENT_STATUS[outage.status]
    affected = set(_affected_components(site, outage))
    return {
        "id": outage.reference,
        "name": outage.title,
        "status": status,
        "created_at": iso(outage.started_at),
        "updated_at": iso(outage.updated_at),
        "monitoring_at": iso(
            next((u.created_at for u in outage.updates if u.status == "monitoring"), None)
        ),
        "resolved_at": iso(outage.resolved_at or outage.ended_at) if status == "resolved" else None,
        "impact": _impact(outage),
        "shortlink": f"{site.base_url}{outage.reference}/",
        "started_at": iso(outage.started_at),
        "page_id": "amends",
        "incident_updates": [_incident_update(outage, u) for u in reversed(outage.updates)],
        "components": [
            _component(site, i) for i, c in enumerate(site.components) if c.id in affected
        ],
    }


def summary_json(site: SiteSnapshot) -> bytes:
    return dump(
        {
            "page": _page(site),
            "components": components(site),
            "incidents": [incident(site, o) for o in site.current],
            "scheduled_maintenances": [],
            "status": status_indicator(site),
        }
    )


def status_json(site: SiteSnapshot) -> bytes:
    return dump({"page": _page(site), "status": status_indicator(site)})


def components_json(site: SiteSnapshot) -> bytes:
    return dump({"page": _page(site), "components": components(site)})


def incidents_json(site: SiteSnapshot, *, unresolved: bool = False) -> bytes:
    chosen = site.current if unresolved else site.history[:INCIDENTS_LIMIT]
    return dump({"page": _page(site), "incidents": [incident(site, o) for o in chosen]})


def scheduled_maintenances_json(site: SiteSnapshot) -> bytes:
    return dump({"page": _page(site), "scheduled_maintenances": []})


def _feed_entry(site: SiteSnapshot, outage: PublicOutage) -> str:
    t = Strings("en")
    url = f"{site.base_url}{outage.reference}/"
    lines = [f"<p>{escape(t(f'status_{outage.status}'))}</p>"]
    if outage.summary:
        lines.append(f"<p>{escape(outage.summary)}</p>")
    for update in reversed(outage.updates):
        lines.append(f"<p><b>{escape(t.when(update.created_at))}</b>: {escape(update.message)}</p>")
    return (
        f"<entry><id>{escape(url)}</id><title>{escape(outage.reference)}: {escape(outage.title)}"
        f'</title><link rel="alternate" type="text/html" href="{escape(url)}"/>'
        f"<published>{iso(outage.started_at)}</published><updated>{iso(outage.updated_at)}"
        f'</updated><content type="html">{escape("".join(lines))}</content></entry>'
    )


def atom_feed(site: SiteSnapshot) -> bytes:
    """One entry per outage (newest first) whose content is its public timeline."""
    outages = sorted(site.history, key=lambda o: o.updated_at, reverse=True)[:FEED_LIMIT]
    title = Strings("en")("site_title", operator=site.operator)
    updated = max((o.updated_at for o in outages), default=site.generated_at)
    feed = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        f"<id>{escape(site.base_url)}feed.atom</id><title>{escape(title)}</title>"
        f"<updated>{iso(updated)}</updated>"
        f'<link rel="self" type="application/atom+xml" href="{escape(site.base_url)}feed.atom"/>'
        f'<link rel="alternate" type="text/html" href="{escape(site.base_url)}"/>'
        f"<author><name>{escape(site.operator)}</name></author>"
        + "".join(_feed_entry(site, o) for o in outages)
        + "</feed>\n"
    )
    return feed.encode()


REGISTER_FIELDS = (
    "reference", "title", "status", "classification", "started_at", "restored_at",
    "resolved_at", "duration_minutes", "states", "areas", "services", "affected_services",
    "cause", "updates", "resolution",
)  # fmt: skip


def register_row(outage: PublicOutage) -> dict[str, Any]:
    """One outage as the register lists it: start, end, areas, services, updates, resolution."""
    end = outage.ended_at
    last = outage.latest_update
    return {
        "reference": outage.reference,
        "title": outage.title,
        "status": outage.status,
        "classification": outage.classification,
        "started_at": iso(outage.started_at),
        "restored_at": iso(outage.restored_at),
        "resolved_at": iso(outage.resolved_at),
        "duration_minutes": int((end - outage.started_at).total_seconds() // 60) if end else None,
        "states": [area.state for area in outage.areas],
        "areas": outage.localities,
        "services": list(outage.kinds),
        "affected_services": outage.affected_services,
        "cause": outage.cause,
        "updates": [
            {"at": iso(u.created_at), "status": u.status, "message": u.message}
            for u in outage.updates
        ],
        "resolution": last.message if last is not None and not outage.is_open else "",
    }


def register_json(site: SiteSnapshot) -> bytes:
    return dump(
        {
            "generated_at": iso(site.generated_at),
            "outages": [register_row(o) for o in site.history],
        }
    )


def _cell(value: Any) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with '."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def register_csv(site: SiteSnapshot) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REGISTER_FIELDS)
    for outage in site.history:
        row = register_row(outage)
        row["updates"] = "\n".join(
            f"{u['at']} {u['status']}: {u['message']}" for u in row["updates"]
        )
        writer.writerow([_cell(row[name]) for name in REGISTER_FIELDS])
    return ("\ufeff" + out.getvalue()).encode()  # BOM: Excel reads UTF-8 (zh, vi) correctly


def lookup_json(site: SiteSnapshot, entry: LookupEntry) -> bytes:
    """What the public may know about a postcode: its places, the outages that reached it, the
    service types and whether it is still affected. Never a customer, never a count."""
    return dump(
        {
            "postcode": entry.postcode,
            "places": sorted(entry.places),
            "generated_at": iso(site.generated_at),
            "outages": [
                {
                    "reference": o.reference,
                    "title": o.title,
                    "status": o.status,
                    "still_affected": o.still_affected,
                    "services": list(o.kinds),
                    "etr": iso(o.etr),
                    "restored_at": iso(o.restored_at),
                    "url": f"{site.base_url}{o.reference}/",
                }
                for o in entry.outages
            ],
        }
    )


def locality_index_json(
    site: SiteSnapshot, state: str, localities: dict[str, LocalityEntry]
) -> bytes:
    """One shard of the lookup by place: each outage's public facts once, then per locality
    (by its key) its name, its postcodes and which outages reached it with which services.
    Never a customer, never a count; no publish time either, so a shard nothing changed in
    keeps its bytes (and its ETag) from one publish to the next."""
    facts = {
        o.reference: {
            "title": o.title,
            "status": o.status,
            "etr": iso(o.etr),
            "restored_at": iso(o.restored_at),
            "url": f"{site.base_url}{o.reference}/",
        }
        for entry in localities.values()
        for o in entry.outages
    }
    return dump(
        {
            "state": state,
            "outages": facts,
            "localities": {
                key: {
                    "name": entry.name,
                    "postcodes": sorted(entry.postcodes),
                    "outages": [
                        {
                            "reference": o.reference,
                            "still_affected": o.still_affected,
                            "services": list(o.kinds),
                        }
                        for o in entry.outages
                    ],
                }
                for key, entry in localities.items()
            },
        }
    )
