"""Alert intake: Prometheus Alertmanager webhooks (version 4) and a generic JSON event.

Alert labels become scope (which label means which scope kind is configured by
``AMENDS_INTAKE_LABELS``). The same alert group while its outage is open updates that outage
instead of opening another, and repeated deliveries of the same state change nothing. A
resolved group proposes restoration to the commander, or restores when
``AMENDS_INTAKE_AUTO_RESTORE`` is on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from amends.api.auth import caller
from amends.core.errors import AmendsError
from amends.outages import scope, services
from amends.outages.api import ScopeIn, aware
from amends.outages.models import OPEN_STATUSES, Outage, ScopeKind, Severity

router = Router(tags=["intake"])
INTAKE = "intake"


class AlertIn(Schema):
    status: str
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    startsAt: datetime | None = None  # noqa: N815 (Alertmanager's field names)
    endsAt: datetime | None = None  # noqa: N815
    fingerprint: str = ""


class AlertmanagerIn(Schema):
    version: str
    groupKey: str  # noqa: N815
    status: str
    receiver: str = ""
    groupLabels: dict[str, str] = {}  # noqa: N815
    commonLabels: dict[str, str] = {}  # noqa: N815
    commonAnnotations: dict[str, str] = {}  # noqa: N815
    alerts: list[AlertIn]


class GenericEventIn(Schema):
    source: str = Field(description="who sends it, e.g. pagerduty, opsgenie, nms")
    dedup_key: str
    event_action: str = Field(description="trigger or resolve")
    summary: str = ""
    severity: str = Severity.MAJOR
    started_at: datetime | None = None
    scope: list[ScopeIn] = []


class IntakeOut(Schema):
    action: str = Field(
        description="declared, updated, unchanged, restoration_proposed, restored or ignored"
    )
    outage: str | None = None


def label_mapping() -> dict[str, str]:
    """label name → scope kind, from AMENDS_INTAKE_LABELS ("element=element,site=element,…")."""
    mapping = {}
    for pair in settings.AMENDS_INTAKE_LABELS.split(","):
        label, _, kind = pair.strip().partition("=")
        mapping[label.strip()] = kind.strip() or label.strip()
    return mapping


def specs_from_labels(
    labels: dict[str, str], *, started_at: datetime | None
) -> list[scope.ScopeSpec]:
    mapping = label_mapping()
    found: dict[str, str] = {mapping[k]: v for k, v in labels.items() if k in mapping and v}
    product = found.pop(ScopeKind.PRODUCT, "")
    state = found.get(ScopeKind.STATE, "")
    specs = []
    for kind, value in found.items():
        if kind == ScopeKind.LOCALITY:
            specs.append(
                scope.ScopeSpec(
                    kind=kind, locality=value, state=state, product=product, started_at=started_at
                )
            )
        elif kind == ScopeKind.STATE and ScopeKind.LOCALITY in found:
            continue  # the state only qualifies the locality
        elif kind in (ScopeKind.ELEMENT, ScopeKind.POSTCODE, ScopeKind.STATE):
            spec = scope.ScopeSpec(kind=kind, product=product, started_at=started_at)
            setattr(spec, kind, value)  # the field is named after the kind
            specs.append(spec)
    if not specs and product:
        specs.append(
            scope.ScopeSpec(kind=ScopeKind.PRODUCT, product=product, started_at=started_at)
        )
    return specs


def _item_key(values: dict[str, Any]) -> tuple[object, ...]:
    def pk(obj: Any) -> object:
        return getattr(obj, "pk", obj)

    return (
        values["kind"],
        values["include"],
        pk(values.get("element")),
        values.get("postcode", ""),
        values.get("locality", ""),
        values.get("state", ""),
        pk(values.get("product")),
    )


def _stored_key(item: Any) -> tuple[object, ...]:
    return (
        item.kind,
        item.include,
        item.element_id,
        item.postcode,
        item.locality,
        item.state,
        item.product_id,
    )


def _open_outage(source: str, key: str) -> Outage | None:
    return Outage.objects.filter(
        alert_source=source, alert_key=key, status__in=OPEN_STATUSES
    ).first()


def _new_specs(outage: Outage, specs: list[scope.ScopeSpec]) -> list[scope.ScopeSpec]:
    """The specs not already among the outage's open scope items."""
    have = {_stored_key(i) for i in outage.scope_items.filter(restored_at__isnull=True)}
    fresh, seen = [], set(have)
    for spec in specs:
        key = _item_key(scope.resolve(spec).values)
        if key not in seen:
            seen.add(key)
            fresh.append(spec)
    return fresh


def handle_trigger(
    *,
    actor: str,
    source: str,
    key: str,
    title: str,
    summary: str,
    severity: str,
    specs: list[scope.ScopeSpec],
    started_at: datetime | None,
) -> IntakeOut:
    if not specs:
        raise AmendsError(
            f"no scope: the alert needs one of the labels {', '.join(label_mapping())}",
            field="labels",
        )
    outage = _open_outage(source, key)
    if outage is None:
        change = services.outage_declare(
            actor=actor,
            title=title,
            summary=summary,
            severity=severity,
            started_at=min(started_at or timezone.now(), timezone.now()),
            scope_items=specs,
            alert_source=source,
            alert_key=key,
        )
        return IntakeOut(action="declared", outage=change.outage.reference)
    fresh = _new_specs(outage, specs)
    if not fresh:
        return IntakeOut(action="unchanged", outage=outage.reference)
    services.outage_add_scope(actor=actor, outage=outage, items=fresh)
    return IntakeOut(action="updated", outage=outage.reference)


def handle_resolve(*, actor: str, source: str, key: str) -> IntakeOut:
    outage = _open_outage(source, key)
    if outage is None:
        return IntakeOut(action="ignored")
    if settings.AMENDS_INTAKE_AUTO_RESTORE:
        services.outage_restore(
            actor=actor, outage=outage, message=f"{source} reports the fault cleared."
        )
        return IntakeOut(action="restored", outage=outage.reference)
    if outage.restoration_proposed_at is not None:
        return IntakeOut(action="unchanged", outage=outage.reference)
    services.outage_propose_restoration(actor=actor, outage=outage, source=source)
    return IntakeOut(action="restoration_proposed", outage=outage.reference)


@router.post("/alertmanager", response=IntakeOut, summary="Prometheus Alertmanager webhook")
def alertmanager(request: HttpRequest, body: AlertmanagerIn) -> IntakeOut:
    who = caller(request)
    who.require(INTAKE)
    if body.version != "4":
        raise AmendsError(
            f"webhook version {body.version!r}; version 4 is supported", field="version"
        )
    firing = [alert for alert in body.alerts if alert.status == "firing"]
    if body.status == "resolved" or not firing:
        return handle_resolve(actor=who.label, source="alertmanager", key=body.groupKey)
    specs: list[scope.ScopeSpec] = []
    for alert in firing:
        specs += specs_from_labels(alert.labels, started_at=aware(alert.startsAt))
    starts = [aware(a.startsAt) for a in firing if a.startsAt]
    annotations = body.commonAnnotations
    title = annotations.get("summary") or body.commonLabels.get("alertname", "Network alert")
    severity = body.commonLabels.get("severity", Severity.MAJOR)
    return handle_trigger(
        actor=who.label,
        source="alertmanager",
        key=body.groupKey,
        title=title,
        summary=annotations.get("description", ""),
        severity=severity if severity in Severity.values else Severity.MAJOR,
        specs=specs,
        started_at=min((s for s in starts if s), default=None),
    )


@router.post("/generic", response=IntakeOut, summary="Generic JSON event (PagerDuty-style)")
def generic(request: HttpRequest, body: GenericEventIn) -> IntakeOut:
    who = caller(request)
    who.require(INTAKE)
    if body.event_action == "resolve":
        return handle_resolve(actor=who.label, source=body.source, key=body.dedup_key)
    if body.event_action != "trigger":
        raise AmendsError(f"{body.event_action!r} is not trigger or resolve", field="event_action")
    return handle_trigger(
        actor=who.label,
        source=body.source,
        key=body.dedup_key,
        title=body.summary or f"{body.source} alert",
        summary=body.summary,
        severity=body.severity,
        specs=[item.spec() for item in body.scope],
        started_at=aware(body.started_at),
    )
