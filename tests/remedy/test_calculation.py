"""The calculation, by worked examples: each preset with its arithmetic written out, merging of
windows, eligibility, minimum/cap/rounding, interest, recalculation and the difference.

Operator (tests.factories): C1 consumer (S1 Home Internet $89, S2 Mobile $35), C2 small
business (S3 Home Internet), C3 consumer (S4 Home Internet), C4 consumer (S5 Mobile), C5
enterprise (S6 Home Internet), C6 government (S7 Home Internet). T0 is Monday 2 March 2026,
04:05 UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from amends.core.errors import AmendsError, Conflict
from amends.core.models import AuditEntry
from amends.network.models import Customer
from amends.outages.models import Impact, Outage
from amends.remedy.models import Calculation, Entitlement, Program, ProgramStatus
from amends.remedy.policy import PRESETS, interest_cents
from amends.remedy.services.calculation import calculate, calculation_diff
from tests.factories import Operator
from tests.remedy.conftest import T0, add_service, hours, outage_row, policy, program, window

pytestmark = pytest.mark.django_db

Calculated = Callable[..., tuple[Program, Calculation]]


def entitlements(calculation: Calculation) -> dict[str, Entitlement]:
    """The calculation's entitlements by customer external id."""
    rows = Entitlement.objects.filter(calculation=calculation).select_related("customer")
    return {e.customer.external_id: e for e in rows}


def run(
    analyst: User,
    document: dict[str, Any],
    windows: list[tuple[Outage, Any, datetime, datetime | None]],
    *,
    as_of: datetime = T0 + timedelta(days=10),
) -> tuple[Calculation, dict[str, Entitlement]]:
    """Write the windows, make a program over their outages and calculate it."""
    for outage, service, start, end in windows:
        window(outage, service, start, end)
    outages = list({w[0].pk: w[0] for w in windows}.values())
    made = program(analyst, outages, policy(document))
    calculation = calculate(analyst, made, as_of=as_of)
    return calculation, entitlements(calculation)


# --- the presets, worked -------------------------------------------------------------------


def test_pro_rata_with_small_business_goodwill(calculated_program: Calculated) -> None:
    program_, calculation = calculated_program()
    by_customer = entitlements(calculation)
    # C2: 14 h 05 min = 50,700 s; $89.00 × 50,700 s ÷ (730 h × 3,600 s) = 171.70 c → $1.72;
    # plus $20.00 small-business goodwill = $21.72.
    c2 = by_customer["C2"]
    assert (c2.base_cents, c2.bonus_cents, c2.adjustment_cents, c2.total_cents) == (
        172,
        2000,
        0,
        2172,
    )
    assert c2.explanation == (
        "Home Internet (S3): 14 h 05 min × $89.00/month ÷ 730 h = $1.72; "
        "small-business goodwill $20.00; total $21.72"
    )
    # C1 has two services: 8,900 × 50,700 ÷ 2,628,000 = 171.70 and 3,500 × 50,700 ÷ 2,628,000
    # = 67.52; their exact sum 239.22 rounds once to 239, not to the 172 + 68 = 240 the lines
    # show, and the explanation says so.
    c1 = by_customer["C1"]
    assert c1.total_cents == 239 and c1.services == 2
    assert c1.explanation == (
        "Home Internet (S1): 14 h 05 min × $89.00/month ÷ 730 h = $1.72; "
        "Mobile (S2): 14 h 05 min × $35.00/month ÷ 730 h = $0.68; "
        "exact sum rounded once: $2.39; total $2.39"
    )
    assert by_customer["C4"].total_cents == 68  # mobile only
    assert all(e.eligible and e.outage_seconds == 50_700 for e in by_customer.values())
    assert by_customer["C3"].outage_end == T0 + timedelta(hours=14, minutes=5)
    # Totals: 239 + 2,172 + 172 (C3) + 68 (C4) + 172 (C5) + 172 (C6) = 2,995.
    assert (calculation.affected_customers, calculation.eligible_customers) == (6, 6)
    assert calculation.total_cents == 2995
    assert calculation.version == 1 and len(calculation.inputs_digest) == 64
    program_.refresh_from_db()
    assert program_.status == ProgramStatus.CALCULATED


def test_new_york_psc_per_started_day(analyst: User, op: Operator) -> None:
    outage = outage_row()
    s = op.services
    calculation, by_customer = run(
        analyst,
        {"basis": {"kind": "per_started_day"}, "eligibility": {"min_outage_minutes": 24 * 60}},
        [
            (outage, s["S1"], T0, T0 + hours(26)),
            (outage, s["S2"], T0, T0 + hours(23)),
            (outage, s["S4"], T0, T0 + hours(23)),
            (outage, s["S5"], T0, T0 + hours(24)),
        ],
    )
    # C1: S1 out 26 h = 2 started days × $89.00 ÷ 30 = 593.33 c; S2 out 23 h is under the
    # 24 h the rule asks of a service: nothing. Total $5.93.
    assert by_customer["C1"].total_cents == 593
    assert by_customer["C1"].explanation == (
        "Home Internet (S1): 2 started day(s) (26 h 00 min) × $89.00/month ÷ 30 = $5.93; "
        "Mobile (S2): 23 h 00 min, less than 24 h: $0.00; total $5.93"
    )
    # C3 was out 23 h: under the policy's 24 h minimum, not eligible.
    c3 = by_customer["C3"]
    assert (c3.eligible, c3.exclusion, c3.total_cents) == (False, "short", 0)
    assert c3.explanation == (
        "Not eligible: 23 h 00 min without service, less than the policy's minimum of 24 h 00 min"
    )
    # C4: exactly 24 h is one started day: $35.00 ÷ 30 = 116.67 c → $1.17.
    assert by_customer["C4"].total_cents == 117
    assert calculation.eligible_customers == 2


def test_ofcom_per_calendar_day_after_two_working_days(analyst: User, op: Operator) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 09:00 in London (GMT)
    outage = outage_row(started_at=start)
    document = {
        "currency": "GBP",
        "basis": {"kind": "fixed_per_day", "amount_cents": 1034, "time_zone": "Europe/London"},
    }
    s = op.services
    saturday_noon = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    _, by_customer = run(
        analyst,
        document,
        [
            (outage, s["S1"], start, saturday_noon),
            (outage, s["S3"], start, datetime(2026, 3, 4, 20, 0, tzinfo=UTC)),
        ],
    )
    # Tuesday and Wednesday are the two full working days; from Thursday 00:00 to Saturday
    # 12:00 is 60 h, so 3 calendar days (or part) × £10.34 = £31.02.
    c1 = by_customer["C1"]
    assert c1.total_cents == 3102
    assert c1.explanation == (
        "Home Internet (S1): 123 h 00 min, 3 day(s) after 2 working days of grace × "
        "GBP\u00a010.34 = GBP\u00a031.02; total GBP\u00a031.02"
    )
    # C2's service was back on Wednesday evening, inside the grace period: nothing owed.
    c2 = by_customer["C2"]
    assert (c2.eligible, c2.exclusion, c2.total_cents) == (False, "zero", 0)
    assert c2.explanation.startswith("Nothing owed: Home Internet (S3):")


def test_ofcom_holidays_extend_the_grace_period(analyst: User, op: Operator) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    document = {
        "basis": {
            "kind": "fixed_per_day",
            "amount_cents": 1034,
            "time_zone": "Europe/London",
            "holidays": ["2026-03-04"],
        }
    }
    outage = outage_row(started_at=start)
    _, by_customer = run(
        analyst,
        document,
        [(outage, op.services["S1"], start, datetime(2026, 3, 7, 12, 0, tzinfo=UTC))],
    )
    # Wednesday is a holiday: the working days are Tuesday and Thursday, the grace ends Friday
    # 00:00, and Friday plus half of Saturday is 2 days × £10.34 = £20.68.
    assert by_customer["C1"].total_cents == 2068


def test_ofgem_fixed_amount_then_per_further_twelve_hours(analyst: User, op: Operator) -> None:
    outage = outage_row()
    s = op.services
    document: dict[str, Any] = {
        "currency": "GBP",
        "basis": {
            "kind": "fixed_after_hours",
            "after_hours": 12,
            "amount_cents": 9500,
            "amount_cents_by_segment": {"small_business": 19000},
            "further_every_hours": 12,
            "further_amount_cents": 4500,
        },
    }
    _, by_customer = run(
        analyst,
        document,
        [
            (outage, s["S1"], T0, T0 + hours(30)),
            (outage, s["S3"], T0, T0 + hours(40)),
            (outage, s["S5"], T0, T0 + hours(12)),
        ],
    )
    # C1 (domestic) 30 h: £95 + one further complete 12 h (12–24 h) × £45 = £140.
    assert by_customer["C1"].total_cents == 14000
    # C2 (small business, non-domestic) 40 h: £190 + 2 × £45 (12–24 h, 24–36 h) = £280.
    assert by_customer["C2"].explanation == (
        "Home Internet (S3): 40 h 00 min: GBP\u00a0190.00 after 12 h + 2 × GBP\u00a045.00 "
        "per further 12 h = GBP\u00a0280.00; total GBP\u00a0280.00"
    )
    # C4 was restored at exactly 12 h: within the standard, nothing owed.
    assert by_customer["C4"].exclusion == "zero"


def test_ofgem_cap_per_service(analyst: User, op: Operator) -> None:
    outage = outage_row()
    document = {
        "basis": {
            "kind": "fixed_after_hours",
            "amount_cents": 9500,
            "further_amount_cents": 4500,
            "cap_cents": 20000,
        }
    }
    _, by_customer = run(analyst, document, [(outage, op.services["S4"], T0, T0 + hours(72))])
    # 72 h: £95 + 5 × £45 = £320, capped at £200 for the service.
    c3 = by_customer["C3"]
    assert c3.total_cents == 20000
    assert "(cap $200.00)" in c3.explanation


def test_victorian_gsl_highest_tier_reached(analyst: User, op: Operator) -> None:
    outage = outage_row()
    s = op.services
    tiers = [
        {"over_hours": 18, "amount_cents": 13000},
        {"over_hours": 30, "amount_cents": 19000},
        {"over_hours": 60, "amount_cents": 38000},
    ]
    _, by_customer = run(
        analyst,
        {"basis": {"kind": "tiered", "tiers": tiers}},
        [
            (outage, s["S4"], T0, T0 + hours(25)),
            (outage, s["S6"], T0, T0 + hours(61)),
            (outage, s["S7"], T0, T0 + hours(10)),
        ],
    )
    # 25 h is over 18 h but not 30 h: $130. 61 h is over 60 h: $380 (one payment, the highest).
    assert by_customer["C3"].explanation == (
        "Home Internet (S4): 25 h 00 min, over 18 h = $130.00; total $130.00"
    )
    assert by_customer["C5"].total_cents == 38000
    assert by_customer["C6"].explanation == (
        "Nothing owed: Home Internet (S7): 10 h 00 min, not over 18 h: $0.00"
    )


def test_fixed_amount_per_affected_service(analyst: User, op: Operator) -> None:
    outage = outage_row()
    s = op.services
    _, by_customer = run(
        analyst,
        {"basis": {"kind": "fixed", "amount_cents": 1000}},
        [(outage, s["S1"], T0, T0 + hours(1)), (outage, s["S2"], T0, T0 + hours(1))],
    )
    # Two affected services × $10.00.
    assert by_customer["C1"].total_cents == 2000


# --- time: merging, union, open windows, as_of ----------------------------------------------


def test_overlapping_outages_count_each_hour_once(analyst: User, op: Operator) -> None:
    first, second = outage_row(), outage_row()
    s = op.services
    _, by_customer = run(
        analyst,
        {"basis": {"kind": "pro_rata"}},
        [
            (first, s["S4"], T0, T0 + hours(10)),
            (second, s["S4"], T0 + hours(5), T0 + hours(12)),
            (first, s["S5"], T0, T0 + hours(2)),
            (second, s["S5"], T0 + hours(5), T0 + hours(7)),
        ],
    )
    # S4: 0–10 h and 5–12 h merge into 12 h (not 17): 8,900 × 43,200 ÷ 2,628,000 = 146.30 c.
    assert by_customer["C3"].outage_seconds == 12 * 3600
    assert by_customer["C3"].total_cents == 146
    # S5: 0–2 h and 5–7 h do not touch: 4 h; 3,500 × 14,400 ÷ 2,628,000 = 19.18 c.
    assert by_customer["C4"].outage_seconds == 4 * 3600
    assert by_customer["C4"].total_cents == 19


def test_a_customer_is_eligible_on_the_union_of_their_services(analyst: User, op: Operator) -> None:
    outage = outage_row()
    s = op.services
    _, by_customer = run(
        analyst,
        {"basis": {"kind": "pro_rata"}, "eligibility": {"min_outage_minutes": 8 * 60}},
        [
            (outage, s["S1"], T0, T0 + hours(6)),
            (outage, s["S2"], T0 + hours(4), T0 + hours(10)),
            (outage, s["S4"], T0, T0 + hours(6)),
        ],
    )
    # C1's services were out 6 h each, but together 0–10 h: 10 h ≥ 8 h, eligible.
    assert by_customer["C1"].outage_seconds == 10 * 3600 and by_customer["C1"].eligible
    # C3's only service: 6 h < 8 h.
    assert by_customer["C3"].exclusion == "short"


def test_open_windows_count_to_as_of_and_later_ones_are_left_out(
    analyst: User, op: Operator
) -> None:
    outage = outage_row(resolved=False)
    s = op.services
    as_of = T0 + hours(5)
    _, by_customer = run(
        analyst,
        {"basis": {"kind": "pro_rata"}, "interest": {}},
        [
            (outage, s["S4"], T0, None),
            (outage, s["S6"], T0, T0 + hours(9)),
            (outage, s["S5"], T0 + hours(6), None),
        ],
        as_of=as_of,
    )
    c3 = by_customer["C3"]
    assert c3.outage_seconds == 5 * 3600 and c3.outage_end is None and c3.interest_cents == 0
    # S6 was restored after as_of: counted to as_of, and still out as of then.
    assert by_customer["C5"].outage_seconds == 5 * 3600 and by_customer["C5"].outage_end is None
    assert "C4" not in by_customer  # their window starts after as_of


# --- eligibility ----------------------------------------------------------------------------


def test_exclusions_by_segment_product_former_and_list(analyst: User, op: Operator) -> None:
    Customer.objects.filter(external_id="C3").update(is_former=True)
    outage = outage_row()
    for service in op.services.values():
        window(outage, service, T0, T0 + hours(10))
    document = {
        "basis": {"kind": "pro_rata"},
        "eligibility": {
            "segments": ["consumer", "small_business", "government"],
            "products": ["MOB", "NBN"],
            "customers": "current",
            "exclude_customers": ["C6"],
        },
    }
    by_customer = entitlements(calculate(analyst, program(analyst, [outage], policy(document))))
    assert by_customer["C3"].exclusion == "former"
    assert by_customer["C5"].exclusion == "segment"
    assert by_customer["C5"].explanation == (
        "Not eligible: the policy does not cover the enterprise segment"
    )
    assert by_customer["C6"].exclusion == "excluded"
    assert {k for k, e in by_customer.items() if e.eligible} == {"C1", "C2", "C4"}

    mobile_only = {"basis": {"kind": "pro_rata"}, "eligibility": {"products": ["MOB"]}}
    by_customer = entitlements(calculate(analyst, program(analyst, [outage], policy(mobile_only))))
    # C1 counts only its mobile service: 3,500 × 36,000 ÷ 2,628,000 = 47.95 c.
    assert (
        by_customer["C1"].total_cents == 48 and "Home Internet" not in by_customer["C1"].explanation
    )
    assert by_customer["C2"].exclusion == "product"
    former_only = {"basis": {"kind": "pro_rata"}, "eligibility": {"customers": "former"}}
    by_customer = entitlements(calculate(analyst, program(analyst, [outage], policy(former_only))))
    assert by_customer["C1"].exclusion == "current" and by_customer["C3"].eligible


def test_non_monetary_remedies_for_eligible_customers(analyst: User, op: Operator) -> None:
    outage = outage_row()
    s = op.services
    document = {
        "basis": {"kind": "pro_rata"},
        "eligibility": {"exclude_customers": ["C4"]},
        "non_monetary": [
            {"description": "10 GB bonus data", "products": ["MOB"]},
            {"description": "A month of TV free"},
        ],
    }
    _, by_customer = run(
        analyst,
        document,
        [
            (outage, s["S1"], T0, T0 + hours(3)),
            (outage, s["S2"], T0, T0 + hours(3)),
            (outage, s["S4"], T0, T0 + hours(3)),
            (outage, s["S5"], T0, T0 + hours(3)),
        ],
    )
    assert by_customer["C1"].non_monetary == "10 GB bonus data; A month of TV free"
    assert by_customer["C3"].non_monetary == "A month of TV free"
    assert by_customer["C4"].non_monetary == ""  # excluded


# --- minimum, cap, rounding, interest ---------------------------------------------------------


def test_minimum_and_cap_are_applied_to_base_plus_goodwill(analyst: User, op: Operator) -> None:
    outage = outage_row()
    s = op.services
    document = {
        "basis": {"kind": "pro_rata"},
        "goodwill_cents": {"small_business": 5000},
        "minimum_cents": 500,
        "cap_cents": 2000,
    }
    _, by_customer = run(
        analyst,
        document,
        [(outage, s["S3"], T0, T0 + hours(14)), (outage, s["S5"], T0, T0 + hours(14))],
    )
    # C2: 8,900 × 50,400 ÷ 2,628,000 = 170.68 → base $1.71; + $50.00 goodwill = $51.71,
    # capped at $20.00: the adjustment is 2,000 − 171 − 5,000 = −3,171.
    c2 = by_customer["C2"]
    assert (c2.base_cents, c2.bonus_cents, c2.adjustment_cents, c2.total_cents) == (
        171,
        5000,
        -3171,
        2000,
    )
    assert "; capped at $20.00; total $20.00" in c2.explanation
    # C4: 3,500 × 50,400 ÷ 2,628,000 = 67.12 → raised to the $5.00 minimum (+433).
    c4 = by_customer["C4"]
    assert (c4.base_cents, c4.adjustment_cents, c4.total_cents) == (67, 433, 500)
    assert "; minimum $5.00 applies; total $5.00" in c4.explanation


@pytest.mark.parametrize(
    ("rounding", "cents"), [("half_up", 3), ("half_even", 2), ("up", 3), ("down", 2)]
)
def test_the_rounding_rule_is_applied_once(
    analyst: User, op: Operator, rounding: str, cents: int
) -> None:
    service = add_service(op.customers["C4"], op.products["MOB"], "S-HALF", charge_cents=1000)
    outage = outage_row()
    # $10.00 × 6,570 s ÷ 2,628,000 s = 2.5 c exactly.
    _, by_customer = run(
        analyst,
        {"basis": {"kind": "pro_rata"}, "rounding": rounding},
        [(outage, service, T0, T0 + timedelta(seconds=6570))],
    )
    assert by_customer["C4"].total_cents == cents


def test_interest_to_as_of_on_the_rounded_amount(calculated_program: Calculated) -> None:
    _, calculation = calculated_program(
        {
            "basis": {"kind": "pro_rata"},
            "goodwill_cents": {"small_business": 2000},
            "interest": {"annual_rate_percent": "9.6"},
        }
    )
    c2 = entitlements(calculation)["C2"]
    # Outage end T0 + 14 h 05 min, as_of T0 + 48 h: 1 whole day; 2,172 × 9.6 % ÷ 365 = 0.57 c.
    assert c2.interest_cents == 1 and c2.total_cents == 2173
    assert c2.interest_cents == interest_cents(
        2172, c2.outage_end, calculation.as_of, Decimal("9.6")
    )
    assert c2.explanation.endswith(
        "; interest 9.6 % a year for 1 day(s) on $21.72 = $0.01; total $21.73"
    )
    assert calculation.interest_rate == Decimal("9.6")


@override_settings(AMENDS_REMEDY_INTEREST_RATE="12")
def test_interest_rate_defaults_to_the_setting(analyst: User, op: Operator) -> None:
    outage = outage_row()
    calculation, by_customer = run(
        analyst,
        {"basis": {"kind": "fixed", "amount_cents": 100_000}, "interest": {}},
        [(outage, op.services["S4"], T0, T0 + hours(1))],
        as_of=T0 + hours(1) + timedelta(days=73),
    )
    # $1,000.00 × 12 % × 73 ÷ 365 = $24.00.
    assert calculation.interest_rate == Decimal("12")
    assert by_customer["C3"].interest_cents == 2400


# --- versions, difference, state, audit -------------------------------------------------


def test_recalculation_makes_a_new_version_and_the_diff_shows_changes(
    analyst: User, calculated_program: Calculated, op: Operator
) -> None:
    made, first = calculated_program()
    as_of = first.as_of
    second = calculate(analyst, made, as_of=as_of)
    assert second.version == 2
    assert second.inputs_digest == first.inputs_digest  # same inputs, same cents
    assert second.total_cents == first.total_cents
    unchanged = calculation_diff(first, second)
    assert (unchanged.added, unchanged.removed, unchanged.changed) == (0, 0, 0)
    assert unchanged.unchanged == 6 and unchanged.largest == []

    outage = made.outages.get()
    # S4 stays out 10 h longer; C3 gets one more service; C6's window is withdrawn.
    Impact.objects.filter(outage=outage, service=op.services["S4"]).update(
        window_end=T0 + timedelta(hours=24, minutes=5)
    )
    Impact.objects.filter(service=op.services["S7"]).delete()
    extra = add_service(op.customers["C3"], op.products["MOB"], "S8")
    window(outage, extra, T0, T0 + hours(1))
    third = calculate(analyst, made, as_of=as_of)
    assert third.inputs_digest != second.inputs_digest
    diff = calculation_diff(second, third)
    assert (diff.added, diff.removed, diff.changed, diff.unchanged) == (0, 1, 1, 4)
    # C3: 8,900 × 86,700 ÷ 2,628,000 + 3,500 × 3,600 ÷ 2,628,000 = 293.62 + 4.79 → 298 (was 172).
    assert diff.total_change_cents == (298 - 172) - 172
    assert [(c.external_id, c.old_cents, c.new_cents) for c in diff.largest] == [
        ("C6", 172, None),
        ("C3", 172, 298),
    ]
    assert diff.largest[0].change_cents == -172
    page = calculation_diff(second, third, limit=1, offset=1)
    assert [c.external_id for c in page.largest] == ["C3"]


def test_diff_refuses_calculations_of_two_programs(calculated_program: Calculated) -> None:
    _, first = calculated_program()
    _, other = calculated_program()
    with pytest.raises(AmendsError) as caught:
        calculation_diff(first, other)
    assert caught.value.field == "versions"


def test_calculation_is_audited(calculated_program: Calculated) -> None:
    made, calculation = calculated_program()
    entry = AuditEntry.objects.get(action="remedy.calculate")
    assert entry.actor == "ana" and entry.object_id == str(calculation.pk)
    assert entry.before == {"status": "draft"}
    assert entry.after["total_cents"] == 2995 and entry.after["program"] == made.reference


def test_paying_programs_are_not_recalculated(
    analyst: User, calculated_program: Calculated
) -> None:
    made, _ = calculated_program()
    Program.objects.filter(pk=made.pk).update(status=ProgramStatus.PAYING)
    with pytest.raises(Conflict) as caught:
        calculate(analyst, made)
    assert caught.value.field == "status"
    assert made.calculations.count() == 1


def test_approved_programs_recalculate_into_calculated(
    analyst: User, calculated_program: Calculated
) -> None:
    made, _ = calculated_program()
    Program.objects.filter(pk=made.pk).update(status=ProgramStatus.APPROVED)
    assert calculate(analyst, made).version == 2
    made.refresh_from_db()
    assert made.status == ProgramStatus.CALCULATED


def test_as_of_in_the_future_is_refused(analyst: User, fourteen_hour_outage: Outage) -> None:
    made = program(analyst, [fourteen_hour_outage])
    with pytest.raises(AmendsError) as caught:
        calculate(analyst, made, as_of=datetime(2999, 1, 1, tzinfo=UTC))
    assert caught.value.field == "as_of"
    assert not Calculation.objects.exists()


def test_staff_without_the_analyst_role_may_not_calculate(
    analyst: User, viewer: User, fourteen_hour_outage: Outage
) -> None:
    made = program(analyst, [fourteen_hour_outage])
    with pytest.raises(AmendsError) as caught:
        calculate(viewer, made)
    assert caught.value.status == 403
    assert not Calculation.objects.exists()


NY_PER_INTERRUPTION = {
    "basis": {"kind": "per_started_day", "per_interruption": True},
    "eligibility": {"min_outage_minutes": 24 * 60},
}


def test_new_york_psc_counts_each_interruption_on_its_own(analyst: User, op: Operator) -> None:
    first, second, third = outage_row(), outage_row(), outage_row()
    s = op.services
    day = timedelta(days=3)
    _, by_customer = run(
        analyst,
        NY_PER_INTERRUPTION,
        [
            # S1: three separate spells of 25 h, 25 h and 34.5 h: 2 + 2 + 2 = 6 days, not the
            # 4 started days of their 84.5 h sum.
            (first, s["S1"], T0, T0 + hours(25)),
            (second, s["S1"], T0 + day, T0 + day + hours(25)),
            (third, s["S1"], T0 + 2 * day, T0 + 2 * day + hours(34.5)),
            # S3: two separate 20 h spells: none reaches 24 h, nothing.
            (first, s["S3"], T0, T0 + hours(20)),
            (second, s["S3"], T0 + day, T0 + day + hours(20)),
            # S4: two overlapping windows (0–20 h, 10–30 h) merge into one 30 h interruption.
            (first, s["S4"], T0, T0 + hours(20)),
            (second, s["S4"], T0 + hours(10), T0 + hours(30)),
        ],
    )
    # C1: 6 × $89.00 ÷ 30 = $17.80 for S1 (S2 was not out).
    assert by_customer["C1"].total_cents == 1780
    assert by_customer["C1"].explanation == (
        "Home Internet (S1): 6 started day(s) of interruptions of 24 h or more (84 h 30 min in "
        "all) × $89.00/month ÷ 30 = $17.80; total $17.80"
    )
    c2 = by_customer["C2"]
    assert (c2.eligible, c2.exclusion, c2.total_cents) == (False, "zero", 0)
    assert c2.explanation == (
        "Nothing owed: Home Internet (S3): 40 h 00 min, no interruption of 24 h or more: $0.00"
    )
    # C3: 2 started days × $89.00 ÷ 30 = $5.93.
    assert by_customer["C3"].total_cents == 593


@pytest.mark.parametrize(("threshold", "owed"), [(3, True), (4, False)])
def test_new_york_psc_nothing_below_the_affected_customers_threshold(
    analyst: User, op: Operator, threshold: int, owed: bool
) -> None:
    outage = outage_row()
    s = op.services
    document = {
        **NY_PER_INTERRUPTION,
        "eligibility": {"min_outage_minutes": 24 * 60, "min_affected_customers": threshold},
    }
    _, by_customer = run(
        analyst,
        document,
        [(outage, s[ref], T0, T0 + hours(26)) for ref in ("S1", "S3", "S4")],
    )
    c3 = by_customer["C3"]
    if owed:
        assert (c3.eligible, c3.total_cents) == (True, 593)
    else:
        assert (c3.eligible, c3.exclusion, c3.total_cents) == (False, "few", 0)
        assert c3.explanation == (
            "Not eligible: the outage affected 3 subscriber(s), fewer than the policy's "
            "threshold of 4"
        )


def test_new_york_psc_preset_says_what_it_computes() -> None:
    preset = PRESETS["ny_psc"]
    assert preset.eligibility.min_affected_customers == 100
    assert "fewer than 100 subscribers" in preset.description
    assert "each interruption of a service of 24 h or more counted on its own" in (
        preset.description
    )
