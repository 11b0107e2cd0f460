"""Properties of the calculation, checked by hypothesis against a Python reference.

For random windows (from one or two outages, overlapping or not), charges, segments, SLA tiers
and policies (with SLA credits for some tiers or none): the SQL's cents equal the reference's
exactly; an entitlement never exceeds the cap and never falls below the minimum when eligible;
it never shrinks when an outage lasts longer; the order the impact rows were written in changes
nothing; and a window repeated by a second, overlapping outage is counted once.

Each example writes its own customer, services and windows inside a transaction that is rolled
back, so examples never see each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amends.network.models import Customer, Product
from amends.remedy.models import Entitlement
from amends.remedy.policy import PolicyDocument, validate_policy
from amends.remedy.services.calculation import calculate
from tests.remedy.conftest import T0, add_service, outage_row, policy, program, window

pytestmark = pytest.mark.django_db

AS_OF = T0 + timedelta(days=5)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- inputs ---------------------------------------------------------------------------------

Window = tuple[int, int, int | None]  # outage (0 or 1), start and end in minutes after T0


@dataclass
class Case:
    segment: str
    charges: list[int]  # one per service, cents a month
    tiers: list[str]  # one per service, its SLA tier
    windows: list[list[Window]]  # per service
    document: dict[str, Any]


segments = st.sampled_from(["consumer", "small_business", "enterprise", "government"])
sla_tiers = st.sampled_from(["standard", "business", "enterprise"])


@st.composite
def service_windows(draw: st.DrawFn) -> list[Window]:
    """A service's windows in one or two outages. Within an outage they follow each other
    without overlapping and only the last may still be open, as impact resolution writes them;
    across outages they overlap freely."""
    found: list[Window] = []
    for outage in range(draw(st.integers(1, 2))):
        start = draw(st.integers(0, 48 * 60))
        count = draw(st.integers(1, 2))
        for k in range(count):
            open_allowed = k == count - 1
            length = draw(
                st.one_of(st.none(), st.integers(0, 60 * 60))
                if open_allowed
                else st.integers(0, 30 * 60)
            )
            found.append((outage, start, None if length is None else start + length))
            if length is None:
                break
            start += length + draw(st.integers(0, 24 * 60))
    return found


bases = st.one_of(
    st.builds(
        lambda h: {"kind": "pro_rata", "hours_per_month": h}, st.sampled_from([730, 720, 744])
    ),
    st.builds(
        lambda d, m: {"kind": "per_started_day", "days_per_month": d, "min_outage_hours": m},
        st.sampled_from([30, 31]),
        st.integers(0, 30),
    ),
    st.builds(
        lambda a, f, e, c, by: {
            "kind": "fixed_after_hours",
            "after_hours": e,
            "amount_cents": a,
            "amount_cents_by_segment": by,
            "further_every_hours": e or 1,
            "further_amount_cents": f,
            "cap_cents": c,
        },
        st.integers(0, 20_000),
        st.integers(0, 5_000),
        st.integers(0, 24),
        st.one_of(st.none(), st.integers(0, 50_000)),
        st.dictionaries(segments, st.integers(0, 30_000), max_size=2),
    ),
    st.builds(
        lambda steps: {
            "kind": "tiered",
            "tiers": [
                {
                    "over_hours": sum(s[0] for s in steps[: i + 1]),
                    "amount_cents": sum(s[1] for s in steps[: i + 1]),
                }
                for i in range(len(steps))
            ],
        },
        st.lists(st.tuples(st.integers(1, 30), st.integers(0, 20_000)), min_size=1, max_size=4),
    ),
    st.builds(lambda a: {"kind": "fixed", "amount_cents": a}, st.integers(0, 5_000)),
)


@st.composite
def sla_credits(draw: st.DrawFn) -> dict[str, Any]:
    maximum = draw(st.integers(1, 100))
    return {
        "restore_within_minutes": draw(st.integers(0, 24 * 60)),
        "percent_per_block": draw(st.integers(1, maximum)),
        "block_minutes": draw(st.integers(1, 12 * 60)),
        "max_percent": maximum,
    }


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    minimum = draw(st.integers(0, 2_000))
    cap = draw(st.one_of(st.none(), st.integers(minimum, 50_000)))
    return {
        "basis": draw(bases),
        "sla_credits": draw(st.dictionaries(sla_tiers, sla_credits(), max_size=2)),
        "eligibility": {"min_outage_minutes": draw(st.integers(0, 24 * 60))},
        "goodwill_cents": draw(st.dictionaries(segments, st.integers(0, 5_000), max_size=2)),
        "minimum_cents": minimum,
        "cap_cents": cap,
        "rounding": draw(st.sampled_from(["half_up", "half_even", "up", "down"])),
    }


@st.composite
def cases(draw: st.DrawFn) -> Case:
    services = draw(st.integers(1, 3))
    return Case(
        segment=draw(segments),
        charges=draw(st.lists(st.integers(0, 30_000), min_size=services, max_size=services)),
        tiers=draw(st.lists(sla_tiers, min_size=services, max_size=services)),
        windows=[draw(service_windows()) for _ in range(services)],
        document=draw(documents()),
    )


# --- the reference --------------------------------------------------------------------------


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _seconds(spans: list[tuple[int, int]]) -> int:
    return sum(end - start for start, end in _merged(spans))


def _spans(case: Case) -> list[list[tuple[int, int]]]:
    """Each service's windows in seconds after T0, cut at AS_OF."""
    limit = int((AS_OF - T0).total_seconds())
    return [
        [(s * 60, min(limit, e * 60 if e is not None else limit)) for _, s, e in service]
        for service in case.windows
    ]


def _service_amount(doc: PolicyDocument, charge: int, seconds: int, segment: str) -> Fraction:
    basis = doc.basis
    hour = 3600
    match basis.kind:
        case "pro_rata":
            return Fraction(charge * seconds, basis.hours_per_month * hour)
        case "per_started_day":
            if seconds < basis.min_outage_hours * hour:
                return Fraction(0)
            return Fraction(charge * math.ceil(seconds / 86_400), basis.days_per_month)
        case "fixed_after_hours":
            if seconds <= basis.after_hours * hour:
                return Fraction(0)
            first = basis.amount_cents_by_segment.get(segment, basis.amount_cents)  # type: ignore[call-overload]
            further = (seconds - basis.after_hours * hour) // (basis.further_every_hours * hour)
            amount = first + further * basis.further_amount_cents
            return Fraction(amount if basis.cap_cents is None else min(amount, basis.cap_cents))
        case "tiered":
            reached = [t.amount_cents for t in basis.tiers if seconds > t.over_hours * hour]
            return Fraction(reached[-1] if reached else 0)
        case _:
            return Fraction(basis.amount_cents)


def _sla_credit(doc: PolicyDocument, charge: int, seconds: int, tier: str) -> Fraction:
    rule = doc.sla_credits.get(tier)  # type: ignore[call-overload]
    late = 0 if rule is None else seconds - rule.restore_within_minutes * 60
    if late <= 0:
        return Fraction(0)
    blocks = math.ceil(late / (rule.block_minutes * 60))
    return Fraction(charge * min(blocks * rule.percent_per_block, rule.max_percent), 100)


def _rounded(value: Fraction, rule: str) -> int:
    floor = value.numerator // value.denominator
    rest = value - floor
    if rule == "down" or rest == 0:
        return floor
    if rule == "up":
        return floor + 1
    if rest != Fraction(1, 2):
        return floor + (1 if rest > Fraction(1, 2) else 0)
    return floor + 1 if rule == "half_up" else floor + floor % 2


def reference(case: Case) -> tuple[str, int]:
    """(exclusion, total cents) as the policy says, computed in Python with fractions."""
    doc = validate_policy(case.document)
    live = _spans(case)
    union = _seconds([span for service in live for span in service])
    if union < doc.eligibility.min_outage_minutes * 60:
        return "short", 0
    exact = sum(
        (
            _service_amount(doc, charge, _seconds(service), case.segment)
            + _sla_credit(doc, charge, _seconds(service), tier)
            for charge, tier, service in zip(case.charges, case.tiers, live, strict=True)
            if service
        ),
        Fraction(0),
    ) + doc.goodwill_cents.get(case.segment, 0)  # type: ignore[call-overload]
    exact = max(exact, Fraction(doc.minimum_cents))
    if doc.cap_cents is not None:
        exact = min(exact, Fraction(doc.cap_cents))
    total = _rounded(exact, doc.rounding.value)
    return ("zero" if total == 0 else ""), total


# --- running a case in the database ---------------------------------------------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def calculated(
    analyst: User, case: Case, *, order: list[int] | None = None, copies: int = 1
) -> Entitlement | None:
    """Write the case (its impact rows in ``order``; with ``copies`` 2, every window again in
    two more outages), calculate it as of AS_OF and return the customer's entitlement."""
    customer = Customer.objects.create(external_id="P1", name="Prop", segment=case.segment)
    product = Product.objects.create(code="P", name="Plan", kind="saas", monthly_charge_cents=1)
    services = [
        add_service(customer, product, f"P1-S{i}", charge_cents=charge, sla_tier=tier)
        for i, (charge, tier) in enumerate(zip(case.charges, case.tiers, strict=True))
    ]
    outages = [outage_row() for _ in range(2 * copies)]
    rows = [
        (outages[outage + 2 * copy], services[i], _at(start), None if end is None else _at(end))
        for copy in range(copies)
        for i, spans in enumerate(case.windows)
        for outage, start, end in spans
    ]
    for index in order if order is not None else range(len(rows)):
        window(*rows[index])
    made = program(analyst, outages, policy(case.document))
    calculation = calculate(analyst, made, as_of=AS_OF)
    return Entitlement.objects.filter(calculation=calculation, customer=customer).first()


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _principal(entitlement: Entitlement | None) -> int:
    return 0 if entitlement is None else entitlement.total_cents - entitlement.interest_cents


# --- the properties -------------------------------------------------------------------------


@SETTINGS
@given(case=cases())
def test_cents_equal_the_reference_within_minimum_and_cap(analyst: User, case: Case) -> None:
    with rolled_back():
        found = calculated(analyst, case)
    exclusion, total = reference(case)
    assert found is not None  # every generated window starts before AS_OF
    assert (found.exclusion, found.total_cents) == (exclusion, total)
    doc = case.document
    if found.eligible:
        assert found.total_cents >= doc["minimum_cents"]
        assert doc["cap_cents"] is None or found.total_cents <= doc["cap_cents"]
        parts = found.base_cents + found.sla_cents + found.bonus_cents + found.adjustment_cents
        assert parts == found.total_cents


@SETTINGS
@given(case=cases(), service=st.integers(0, 2), pick=st.integers(0, 5), longer=st.integers(1, 2880))
def test_a_longer_outage_never_pays_less(
    analyst: User, case: Case, service: int, pick: int, longer: int
) -> None:
    windows = case.windows[service % len(case.windows)]
    index = pick % len(windows)
    outage, start, end = windows[index]
    with rolled_back():
        before = _principal(calculated(analyst, case))
    if end is not None:  # closes later, without reaching the next window of its outage
        following = [s for o, s, _ in windows[index + 1 :] if o == outage]
        windows[index] = (outage, start, min([end + longer, *following]))
    with rolled_back():
        after = _principal(calculated(analyst, case))
    assert after >= before


@SETTINGS
@given(case=cases(), data=st.data())
def test_the_order_of_impact_rows_changes_nothing(
    analyst: User, case: Case, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(list(range(sum(len(w) for w in case.windows)))))
    with rolled_back():
        written = calculated(analyst, case)
        assert written is not None
        first = (written.total_cents, written.outage_seconds, written.explanation)
    with rolled_back():
        shuffled = calculated(analyst, case, order=list(order))
        assert shuffled is not None
        assert (shuffled.total_cents, shuffled.outage_seconds, shuffled.explanation) == first


@SETTINGS
@given(case=cases())
def test_overlapping_outages_are_counted_once(analyst: User, case: Case) -> None:
    with rolled_back():
        once = calculated(analyst, case)
        assert once is not None
        expected = (once.total_cents, once.outage_seconds, once.exclusion)
    with rolled_back():
        twice = calculated(analyst, case, copies=2)
        assert twice is not None
        assert (twice.total_cents, twice.outage_seconds, twice.exclusion) == expected
