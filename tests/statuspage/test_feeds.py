"""The machine-readable files: Statuspage v2 JSON (checked against a schema of its public
documentation), the Atom feed (feedparser), the register (CSV and JSON), the lookup index."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import jsonschema
import pytest

from amends.outages.models import Outage
from amends.outages.services import outage_post_update, outage_restore, outage_transition
from amends.statuspage import publish
from tests.statuspage.conftest import declare_open

pytestmark = pytest.mark.django_db

# Written from Atlassian Statuspage's public API v2 documentation (summary.json): the fields a
# widget or aggregator reads. Timestamps are ISO 8601 with an offset.
TIMESTAMP = {
    "type": "string",
    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$",
}
NULLABLE_TIMESTAMP = {"anyOf": [TIMESTAMP, {"type": "null"}]}
NULLABLE_STRING = {"type": ["string", "null"]}
COMPONENT = {
    "type": "object",
    "required": [
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    ],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "name": {"type": "string", "minLength": 1},
        "status": {
            "enum": [
                "operational",
                "degraded_performance",
                "partial_outage",
                "major_outage",
                "under_maintenance",
            ]
        },
        "created_at": NULLABLE_TIMESTAMP,
        "updated_at": NULLABLE_TIMESTAMP,
        "position": {"type": "integer"},
        "description": NULLABLE_STRING,
        "showcase": {"type": "boolean"},
        "start_date": NULLABLE_STRING,
        "group_id": NULLABLE_STRING,
        "page_id": {"type": "string"},
        "group": {"type": "boolean"},
        "only_show_if_degraded": {"type": "boolean"},
        "components": {"type": "array", "items": {"type": "string"}},
    },
}
INCIDENT_UPDATE = {
    "type": "object",
    "required": [
        "id",
        "status",
        "body",
        "incident_id",
        "created_at",
        "updated_at",
        "display_at",
        "affected_components",
        "deliver_notifications",
        "custom_tweet",
        "tweet_id",
    ],
    "properties": {
        "id": {"type": "string"},
        "status": {
            "enum": [
                "investigating",
                "identified",
                "monitoring",
                "resolved",
                "postmortem",
                "scheduled",
                "in_progress",
                "verifying",
                "completed",
            ]
        },
        "body": {"type": "string"},
        "incident_id": {"type": "string"},
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "display_at": TIMESTAMP,
        "affected_components": {"type": ["array", "null"]},
        "deliver_notifications": {"type": "boolean"},
        "custom_tweet": NULLABLE_STRING,
        "tweet_id": NULLABLE_STRING,
    },
}
INCIDENT = {
    "type": "object",
    "required": [
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "monitoring_at",
        "resolved_at",
        "impact",
        "shortlink",
        "started_at",
        "page_id",
        "incident_updates",
        "components",
    ],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"enum": ["investigating", "identified", "monitoring", "resolved", "postmortem"]},
        "created_at": TIMESTAMP,
        "updated_at": NULLABLE_TIMESTAMP,
        "monitoring_at": NULLABLE_TIMESTAMP,
        "resolved_at": NULLABLE_TIMESTAMP,
        "impact": {"enum": ["none", "minor", "major", "critical"]},
        "shortlink": {"type": "string", "pattern": "^https?://"},
        "started_at": TIMESTAMP,
        "page_id": {"type": "string"},
        "incident_updates": {"type": "array", "items": INCIDENT_UPDATE},
        "components": {"type": "array", "items": COMPONENT},
    },
}
PAGE = {
    "type": "object",
    "required": ["id", "name", "url", "time_zone", "updated_at"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "url": {"type": "string", "pattern": "^https?://"},
        "time_zone": {"type": "string"},
        "updated_at": TIMESTAMP,
    },
}
STATUS = {
    "type": "object",
    "required": ["indicator", "description"],
    "properties": {
        "indicator": {"enum": ["none", "minor", "major", "critical"]},
        "description": {"type": "string"},
    },
}
SUMMARY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["page", "components", "incidents", "scheduled_maintenances", "status"],
    "properties": {
        "page": PAGE,
        "components": {"type": "array", "items": COMPONENT},
        "incidents": {"type": "array", "items": INCIDENT},
        "scheduled_maintenances": {"type": "array"},
        "status": STATUS,
    },
}  # fmt: skip


def published(root: Path) -> Path:
    publish.publish_site(trigger="test")
    return root / os.readlink(root / "current")


def load(current: Path, path: str) -> Any:
    return json.loads((current / path).read_bytes())


def test_summary_validates_and_reports_open_incidents(site_root: Path, operator: object) -> None:
    outages = declare_open(3, long_texts=False)
    outage_transition(actor="nmc", outage=outages[0], to="identified")
    current = published(site_root)
    summary = load(current, "api/v2/summary.json")
    jsonschema.validate(summary, SUMMARY_SCHEMA)
    assert {i["id"] for i in summary["incidents"]} == {o.reference for o in outages}
    first = next(i for i in summary["incidents"] if i["id"] == outages[0].reference)
    assert first["status"] == "identified" and first["impact"] == "major"
    assert first["shortlink"] == f"https://status.example.net/status/{outages[0].reference}/"
    assert first["incident_updates"][0]["status"] == "identified"  # newest first
    assert len(first["incident_updates"]) == len(outages[0].updates.filter(visibility="public"))
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    status = {c["id"]: c["status"] for c in summary["components"]}
    assert status["fixed_broadband-nsw"] == "partial_outage"  # local outages
    assert status["fixed_broadband-vic"] == "major_outage"  # classified a major outage
    assert status["fixed_broadband"] == "major_outage"  # a group is as bad as its worst child
    assert status["mobile-wa"] == "operational" and status["mobile-nsw"] == "partial_outage"
    assert load(current, "api/v2/status.json")["status"] == summary["status"]


def test_quiet_summary_validates_and_is_operational(site_root: Path, operator: object) -> None:
    summary = load(published(site_root), "api/v2/summary.json")
    jsonschema.validate(summary, SUMMARY_SCHEMA)
    assert summary["incidents"] == [] and summary["scheduled_maintenances"] == []
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert {c["status"] for c in summary["components"]} == {"operational"}
    assert len(summary["components"]) == 2 * (8 + 1)  # 2 kinds sold × 8 states, plus groups


def test_components_are_configurable(site_root: Path, operator: object, settings: Any) -> None:
    settings.AMENDS_STATUSPAGE_COMPONENT_KINDS = ["mobile"]
    settings.AMENDS_STATUSPAGE_COMPONENT_STATES = ["NSW", "VIC"]
    ids = [c["id"] for c in load(published(site_root), "api/v2/components.json")["components"]]
    assert ids == ["mobile", "mobile-nsw", "mobile-vic"]


def test_incidents_include_resolved_ones(site_root: Path, operator: object) -> None:
    open_one, done = declare_open(2, long_texts=False)
    outage_transition(actor="nmc", outage=done, to="resolved", message="All fixed.")
    current = published(site_root)
    incidents = load(current, "incidents.json")["incidents"]
    assert [i["id"] for i in incidents] == [open_one.reference, done.reference]
    resolved = incidents[1]
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None
    assert load(current, "api/v2/incidents/unresolved.json")["incidents"][0]["id"] == (
        open_one.reference
    )
    for incident in incidents:
        jsonschema.validate(incident, INCIDENT)


def test_atom_feed_parses_without_errors(site_root: Path, operator: object) -> None:
    outages = declare_open(2, long_texts=False)
    outage_post_update(actor="nmc", outage=outages[1], message="Crews <b>arrived</b> & started.")
    raw = (published(site_root) / "feed.atom").read_bytes()
    ElementTree.fromstring(raw)  # well-formed XML
    feed = feedparser.parse(raw)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Amends Telecom service status"
    assert [e.link for e in feed.entries] == [
        f"https://status.example.net/status/{o.reference}/" for o in (outages[1], outages[0])
    ]
    assert "Crews &lt;b&gt;arrived&lt;/b&gt; &amp; started." in feed.entries[0].content[0].value
    assert all(e.updated_parsed for e in feed.entries)


def test_register_lists_start_end_areas_services_updates_and_resolution(
    site_root: Path, operator: object
) -> None:
    open_one, done = declare_open(2, long_texts=False)
    Outage.objects.filter(pk=open_one.pk).update(title='=HYPERLINK("http://evil")')
    # Resolving restores what is still out. (Restoring first and then resolving fails on
    # PostgreSQL in outages/impact.py, reported separately.)
    outage_transition(actor="nmc", outage=done, to="resolved", message="Cable replaced.")
    current = published(site_root)
    register = load(current, "register.json")["outages"]
    row = next(r for r in register if r["reference"] == done.reference)
    assert row["states"] == ["NSW"] and row["areas"] == ["Wagga Wagga"]
    assert row["services"] == ["mobile", "fixed_broadband"] and row["affected_services"] == 2
    assert row["restored_at"] and row["duration_minutes"] >= 120
    assert row["resolution"] == "Cable replaced." and len(row["updates"]) >= 5
    text = (current / "register.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["reference"] for r in rows] == [r["reference"] for r in register]
    assert rows[0]["title"].startswith("'=HYPERLINK")  # never a live formula in a spreadsheet
    assert "Cable replaced." in rows[1]["updates"] and rows[1]["areas"] == "Wagga Wagga"


def test_lookup_index_names_areas_services_and_state_only(
    site_root: Path, operator: object
) -> None:
    sydney, wagga = declare_open(2, long_texts=False)
    outage_restore(actor="nmc", outage=wagga)
    current = published(site_root)
    entry = load(current, "lookup/2000.json")
    assert entry["places"] == ["Sydney NSW"]
    (found,) = entry["outages"]
    assert found["reference"] == sydney.reference and found["still_affected"] is True
    assert found["services"] == ["mobile", "fixed_broadband"]
    assert set(found) == {
        "reference", "title", "status", "still_affected", "services", "etr", "restored_at", "url"
    }  # fmt: skip
    restored = load(current, "lookup/2650.json")["outages"][0]
    assert restored["still_affected"] is False and restored["restored_at"] is not None
