"""Shared remediation test data: staff, outages with hand-placed impact windows, policies and
programs. Plain functions (importable from ``tests.remedy.conftest``) and fixtures over them.

Windows are written straight into ``outages_impact`` so a test states exactly who was out from
when to when; the outages themselves are bare rows (no scope), which the engine never reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.models import Customer, Product, Service, SlaTier
from amends.outages.models import Impact, Outage, Status
from amends.remedy.models import Calculation, PolicyVersion, Program
from amends.remedy.services.calculation import calculate
from amends.remedy.services.programs import policy_create, program_create
from tests.factories import Operator, build_operator

PASSWORD = "pw-remedy-123456"
# A Monday morning (Sydney: Monday 15:05), so working-day grace periods are easy to follow.
T0 = datetime(2026, 3, 2, 4, 5, tzinfo=UTC)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def staff(username: str, role: str = Role.REMEDIATION_ANALYST) -> User:
    """A staff account holding ``role`` (password PASSWORD)."""
    return staff_user_set(actor="test", username=username, role=role, password=PASSWORD)


def outage_row(*, title: str = "Fault", started_at: datetime = T0, resolved: bool = True) -> Outage:
    """A bare outage row (no scope); add its windows with :func:`window`."""
    return Outage.objects.create(
        reference=f"OUT-2026-{Outage.objects.count() + 1:04d}",
        title=title,
        status=Status.RESOLVED if resolved else Status.RESTORING,
        detected_at=started_at,
        started_at=started_at,
    )


def window(
    outage: Outage, service: Service, start: datetime, end: datetime | None = None
) -> Impact:
    """One affected service's window in ``outage`` (``end`` None: still out)."""
    return Impact.objects.create(
        outage=outage,
        service=service,
        customer_id=service.customer_id,
        window_start=start,
        window_end=end,
        end_reason="restored" if end else "",
    )


def add_service(
    customer: Customer,
    product: Product,
    external_id: str,
    *,
    charge_cents: int | None = None,
    sla_tier: str = SlaTier.STANDARD,
) -> Service:
    """Another service for ``customer`` (postcode 2000, NSW)."""
    return Service.objects.create(
        external_id=external_id,
        customer=customer,
        product=product,
        monthly_charge_cents=product.monthly_charge_cents if charge_cents is None else charge_cents,
        postcode="2000",
        locality="Sydney",
        state="NSW",
        sla_tier=sla_tier,
    )


def policy(
    document: Mapping[str, Any] | None = None,
    *,
    preset: str = "pro_rata",
    name: str | None = None,
    actor: str = "analyst",
) -> PolicyVersion:
    """A policy's version 1: ``document`` if given, else the preset."""
    return policy_create(
        actor, name or f"Policy {PolicyVersion.objects.count() + 1}", document, preset
    )


def program(
    author: User,
    outages: Iterable[Outage],
    version: PolicyVersion | None = None,
    *,
    name: str = "Make good",
) -> Program:
    return program_create(author, name, list(outages), version or policy())


@pytest.fixture
def op() -> Operator:
    """tests.factories' operator: C1 (S1 NBN $89, S2 MOB $35), C2 small business (S3), C3 (S4),
    C4 (S5 MOB), C5 enterprise (S6), C6 government (S7)."""
    return build_operator()


@pytest.fixture
def analyst() -> User:
    return staff("ana", Role.REMEDIATION_ANALYST)


@pytest.fixture
def approver() -> User:
    return staff("abe", Role.APPROVER)


@pytest.fixture
def viewer() -> User:
    return staff("vic", Role.VIEWER)


@pytest.fixture
def fourteen_hour_outage(op: Operator) -> Outage:
    """Every service of the operator out for 14 h 05 min from T0."""
    outage = outage_row()
    for service in op.services.values():
        window(outage, service, T0, T0 + timedelta(hours=14, minutes=5))
    return outage


@pytest.fixture
def calculated_program(
    analyst: User, fourteen_hour_outage: Outage
) -> Callable[..., tuple[Program, Calculation]]:
    """Make a program over the 14-hour outage under ``document`` (default: the pro-rata preset
    with $20 small-business goodwill) and calculate it as of T0 + 2 days."""

    def make(document: Mapping[str, Any] | None = None) -> tuple[Program, Calculation]:
        doc = document or {
            "basis": {"kind": "pro_rata"},
            "goodwill_cents": {"small_business": 2000},
        }
        made = program(analyst, [fourteen_hour_outage], policy(doc))
        return made, calculate(analyst, made, as_of=T0 + timedelta(days=2))

    return make
