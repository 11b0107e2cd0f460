"""The review an approver sees: totals, spread, distributions, histogram, outliers, exclusions
and affected customers without an entitlement, all computed from the calculation's rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from amends.core.errors import NotFound
from amends.remedy.services import review
from amends.remedy.services.calculation import calculate
from tests.factories import build_operator
from tests.remedy.conftest import T0, add_service, outage_row, policy, program, staff, window
from tests.remedy.payments_support import AS_OF, calculated, latest

pytestmark = pytest.mark.django_db


def test_totals_and_spread_of_the_worked_example() -> None:
    # Amounts (see payments_support): C1 $2.39, C2 $21.73, C3 $1.72, C4 $0.68, C5 $1.72,
    # C6 $1.72 — sorted 68, 172, 172, 172, 239, 2173 cents.
    setup = calculated()
    found = review.review(latest(setup.program))
    totals = found.totals
    assert (totals.affected, totals.eligible, totals.excluded) == (6, 6, 0)
    assert totals.total_cents == 68 + 172 * 3 + 239 + 2173 == 2996
    assert totals.mean_cents == round(2996 / 6)
    assert totals.median_cents == 172  # nearest rank ⌈0.5 × 6⌉ = 3rd
    assert totals.p95_cents == 2173  # ⌈0.95 × 6⌉ = 6th
    assert totals.max_cents == 2173
    assert [e.customer.external_id for e in found.largest[:2]] == ["C2", "C1"]


def test_distribution_by_segment_product_and_state() -> None:
    setup = calculated()
    found = review.review(latest(setup.program))
    segments = {g.key: (g.customers, g.total_cents) for g in found.by_segment}
    assert segments == {
        "consumer": (3, 239 + 172 + 68),
        "small_business": (1, 2173),
        "enterprise": (1, 172),
        "government": (1, 172),
    }
    products = {g.key: (g.customers, g.total_cents) for g in found.by_product}
    # C1 has both products: counted under each with their whole amount.
    assert products == {
        "Home Internet": (5, 239 + 2173 + 172 * 3),
        "Mobile": (2, 239 + 68),
    }
    assert {g.key: g.customers for g in found.by_state} == {"NSW": 4, "VIC": 2}


def test_histogram_on_a_one_two_five_scale() -> None:
    setup = calculated()
    buckets = review.histogram(latest(setup.program))
    assert [(b.label, b.customers) for b in buckets] == [
        ("$0 to under $1", 1),
        ("$1 to under $2", 3),
        ("$2 to under $5", 1),
        ("$5 to under $10", 0),
        ("$10 to under $20", 0),
        ("$20 to under $50", 1),
    ]


def test_exclusions_are_counted_by_reason_with_examples() -> None:
    setup = calculated({"basis": {"kind": "pro_rata"}, "eligibility": {"segments": ["consumer"]}})
    calculation = latest(setup.program)
    groups = {g.key: g.customers for g in review.exclusions(calculation)}
    assert groups == {"segment": 3}
    page = review.excluded_page(calculation, "segment", 1)
    assert [e.customer.external_id for e in page.object_list] == ["C2", "C5", "C6"]


def test_affected_customers_the_calculation_missed_are_shown_with_why() -> None:
    op = build_operator()
    outage = outage_row()
    window(outage, op.services["S1"], T0, T0 + timedelta(hours=3))
    analyst = staff("ana")
    made = program(analyst, [outage], policy())
    calculation = calculate(analyst, made, as_of=AS_OF)
    # Impact found after the calculation: one who was out before its as-of time, one after.
    late = add_service(op.customers["C5"], op.products["NBN"], "S-LATE")
    window(outage, op.services["S3"], T0, T0 + timedelta(hours=2))
    window(outage, late, AS_OF + timedelta(hours=1))
    missing = {
        m.reason.split(":")[0]: (m.customers, m.examples) for m in review.missing(calculation)
    }
    assert missing == {
        "Affected before the as-of time but not in the calculation": (1, ["C2"]),
        "Affected after this calculation's as-of time": (1, ["C5"]),
    }


def test_an_unknown_program_reference_is_not_found() -> None:
    with pytest.raises(NotFound) as missing:
        review.program_by_reference("REM-1999-0001")
    assert missing.value.field == "reference"
