"""Policy documents: strict validation naming the field, presets, interest, grace periods, and
the services that save policies and open programs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from amends.core.errors import AmendsError, Conflict
from amends.core.models import AuditEntry
from amends.core.money import Rounding
from amends.network.models import Segment, SlaTier
from amends.outages.models import Outage
from amends.remedy.models import PolicyVersion, Program, ProgramStatus
from amends.remedy.policy import (
    MAX_HOURS,
    PRESETS,
    FixedPerDay,
    grace_end,
    interest_cents,
    validate_policy,
)
from amends.remedy.services.programs import (
    policy_create,
    policy_revise,
    program_create,
    program_set_policy,
)
from tests.remedy.conftest import T0, outage_row, policy

pytestmark = pytest.mark.django_db

PRO_RATA = {"basis": {"kind": "pro_rata"}}
SLA_RULE = {"restore_within_minutes": 240, "percent_per_block": 10, "block_minutes": 240}


def sla(tier: str = "business", **changes: Any) -> dict[str, Any]:
    """A pro-rata document with SLA credits for ``tier``, its rule changed by ``changes``."""
    return {**PRO_RATA, "sla_credits": {tier: {**SLA_RULE, **changes}}}


def refused(document: Any) -> AmendsError:
    with pytest.raises(AmendsError) as caught:
        validate_policy(document)
    return caught.value


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        ({**PRO_RATA, "bogus": 1}, "bogus", "Extra inputs are not permitted"),
        ({"basis": {"kind": "fixed", "amount_cents": "12"}}, "basis.amount_cents", "integer"),
        ({"basis": {"kind": "fixed", "amount_cents": 12.5}}, "basis.amount_cents", "integer"),
        ({"basis": {"kind": "fixed", "amount_cents": -1}}, "basis.amount_cents", "greater"),
        ({"basis": {"kind": "fixed", "amount_cents": True}}, "basis.amount_cents", "integer"),
        ({"basis": {"kind": "weekly"}}, "basis.kind", "must be one of pro_rata"),
        ({}, "basis", "Field required"),
        ({"basis": "pro_rata"}, "basis", "object"),
        (
            {
                "basis": {
                    "kind": "tiered",
                    "tiers": [
                        {"over_hours": 20, "amount_cents": 100},
                        {"over_hours": 12, "amount_cents": 200},
                    ],
                }
            },
            "basis.tiers",
            "increasing order",
        ),
        (
            {
                "basis": {
                    "kind": "tiered",
                    "tiers": [
                        {"over_hours": 12, "amount_cents": 200},
                        {"over_hours": 20, "amount_cents": 100},
                    ],
                }
            },
            "basis.tiers",
            "cannot pay less",
        ),
        ({**PRO_RATA, "minimum_cents": 500, "cap_cents": 100}, "minimum_cents", "cap_cents"),
        (
            {"basis": {"kind": "fixed_per_day", "amount_cents": 1, "time_zone": "Mars/Base"}},
            "basis.time_zone",
            "not a time zone",
        ),
        (
            {"basis": {"kind": "fixed_per_day", "amount_cents": 1, "holidays": ["2026-13-01"]}},
            "basis.holidays.0",
            "date",
        ),
        (
            {**PRO_RATA, "goodwill_cents": {"pensioner": 100}},
            "goodwill_cents.pensioner",
            "'consumer'",
        ),
        (
            {**PRO_RATA, "eligibility": {"segments": ["vip"]}},
            "eligibility.segments.0",
            "'consumer'",
        ),
        ({**PRO_RATA, "eligibility": {"customers": "some"}}, "eligibility.customers", "'all'"),
        ({**PRO_RATA, "rounding": "sideways"}, "rounding", "'half_up'"),
        (
            {**PRO_RATA, "interest": {"annual_rate_percent": "lots"}},
            "interest.annual_rate_percent",
            "decimal",
        ),
        (
            {**PRO_RATA, "interest": {"annual_rate_percent": 101}},
            "interest.annual_rate_percent",
            "100",
        ),
        ({"basis": {"kind": "pro_rata", "hours_per_month": 0}}, "basis.hours_per_month", "greater"),
        ([PRO_RATA], "document", "JSON object"),
        (sla(max_percent=101), "sla_credits.business.max_percent", "less than or equal to 100"),
        (
            sla(percent_per_block=40, max_percent=30),
            "sla_credits.business.percent_per_block",
            "max_percent",
        ),
        (sla(percent_per_block=0), "sla_credits.business.percent_per_block", "greater"),
        (sla(percent_per_block=2.5), "sla_credits.business.percent_per_block", "integer"),
        (sla(block_minutes=0), "sla_credits.business.block_minutes", "greater"),
        (sla(restore_within_minutes=-1), "sla_credits.business.restore_within_minutes", "greater"),
        (
            sla(restore_within_minutes=MAX_HOURS * 60 + 1),
            "sla_credits.business.restore_within_minutes",
            "less",
        ),
        (sla(block_minutes="240"), "sla_credits.business.block_minutes", "integer"),
        (sla(tier="gold"), "sla_credits.gold", "'business'"),
        ({**PRO_RATA, "currency": "XYZ"}, "currency", "'XYZ' is not an ISO 4217 currency"),
        ({**PRO_RATA, "currency": "gbp"}, "currency", "not an ISO 4217 currency"),
        ({**PRO_RATA, "currency": "JPY"}, "currency", "with cents"),
        ({**PRO_RATA, "currency_symbol": "£"}, "currency_symbol", "Extra inputs"),
        (sla(grace=5), "sla_credits.business.grace", "Extra inputs"),
        (
            {**PRO_RATA, "sla_credits": {"business": {}}},
            "sla_credits.business.restore_within_minutes",
            "required",
        ),
    ],
)
def test_an_invalid_policy_is_refused_with_the_field_named(
    document: Any, field: str, words: str
) -> None:
    error = refused(document)
    assert error.field == field
    assert words in error.message


def test_several_problems_are_counted_after_the_first() -> None:
    error = refused({"basis": {"kind": "fixed"}, "minimum_cents": "1", "extra": True})
    assert error.field == "basis.amount_cents"
    assert error.message.endswith("(and 2 more problems)")


def test_a_valid_document_gets_every_default_written_out() -> None:
    document = validate_policy({"basis": {"kind": "pro_rata"}, "goodwill_cents": {"consumer": 5}})
    stored = document.as_json()
    assert stored["basis"] == {"kind": "pro_rata", "hours_per_month": 730}
    assert stored["rounding"] == "half_up" and stored["minimum_cents"] == 0
    assert stored["eligibility"]["customers"] == "all"
    assert stored["currency"] == "AUD"
    assert validate_policy(stored) == document


def test_segment_names_are_the_customer_segments() -> None:
    for segment in Segment.values:
        validate_policy({**PRO_RATA, "goodwill_cents": {segment: 1}})


def test_sla_tiers_are_the_services_tiers_and_the_maximum_defaults_to_all() -> None:
    for tier in SlaTier.values:
        credits = validate_policy(sla(tier)).sla_credits
        assert credits[tier].max_percent == 100  # type: ignore[index]
    assert validate_policy(PRO_RATA).as_json()["sla_credits"] == {}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_a_valid_document_that_survives_storage(name: str) -> None:
    preset = PRESETS[name]
    assert validate_policy(preset.as_json()) == preset
    assert preset.description


def test_presets_hold_the_published_amounts() -> None:
    ofgem = PRESETS["ofgem_gss"].basis
    assert ofgem.kind == "fixed_after_hours"
    assert (ofgem.after_hours, ofgem.amount_cents, ofgem.further_amount_cents) == (12, 9500, 4500)
    assert ofgem.amount_cents_by_segment["small_business"] == 19000
    vic = PRESETS["vic_gsl"].basis
    assert vic.kind == "tiered"
    assert [(t.over_hours, t.amount_cents) for t in vic.tiers] == [
        (18, 13000),
        (30, 19000),
        (60, 38000),
    ]
    ny = PRESETS["ny_psc"]
    assert ny.basis.kind == "per_started_day" and ny.basis.days_per_month == 30
    assert ny.eligibility.min_outage_minutes == 24 * 60
    ofcom = PRESETS["ofcom_auto"].basis
    assert isinstance(ofcom, FixedPerDay)
    assert (ofcom.grace_days, ofcom.grace_counts, ofcom.amount_cents) == (2, "working_days", 1034)
    currencies = {name: preset.currency for name, preset in PRESETS.items()}
    assert currencies == {
        "pro_rata": "AUD",
        "ny_psc": "USD",
        "ofcom_auto": "GBP",
        "ofgem_gss": "GBP",
        "vic_gsl": "AUD",
    }


def test_interest_is_simple_on_whole_days_and_rounded_once() -> None:
    # $21.72 at 9.6 % a year for 30 days: 2172 × 0.096 × 30 / 365 = 17.138… → 17 cents.
    ended = datetime(2026, 3, 2, 18, 10, tzinfo=UTC)
    paid = datetime(2026, 4, 1, 18, 10, tzinfo=UTC)
    assert interest_cents(2172, ended, paid, Decimal("9.6")) == 17
    # Rounded down by the policy's rule instead.
    assert interest_cents(2172, ended, paid, Decimal("9.6"), Rounding.DOWN) == 17
    # $100.00 at 10.35 % for 45 days: 10000 × 0.1035 × 45 / 365 = 127.602… → 128 (half up).
    assert (
        interest_cents(10_000, ended, datetime(2026, 4, 16, 18, 10, tzinfo=UTC), Decimal("10.35"))
        == 128
    )
    # A day not yet complete earns nothing; neither does a payment before the outage ended.
    assert (
        interest_cents(10_000, ended, datetime(2026, 3, 3, 18, 9, tzinfo=UTC), Decimal("10")) == 0
    )
    assert interest_cents(10_000, paid, ended, Decimal("10")) == 0


def _grace(start: datetime, **rules: Any) -> datetime:
    basis = FixedPerDay(kind="fixed_per_day", amount_cents=1, time_zone="Australia/Sydney", **rules)
    return grace_end(start, basis)


def test_grace_ends_at_midnight_after_the_full_working_days() -> None:
    # T0 is Monday 2 March 2026 15:05 in Sydney (UTC+11): Tuesday and Wednesday are the two
    # full working days, so the grace period ends at Thursday 00:00 Sydney = Wednesday 13:00 UTC.
    assert _grace(T0) == datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
    # A holiday on Tuesday pushes it a day: Wednesday and Thursday, ending Friday 00:00.
    assert _grace(T0, holidays=[date(2026, 3, 3)]) == datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
    # From a Friday, the weekend does not count: Monday and Tuesday, ending Wednesday 00:00.
    friday = datetime(2026, 3, 5, 23, 0, tzinfo=UTC)  # Friday 6 March 10:00 in Sydney
    assert _grace(friday) == datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
    # Counted in calendar days: Saturday and Sunday, ending Monday 00:00.
    assert _grace(friday, grace_counts="calendar_days") == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


# --- services ------------------------------------------------------------------------------


def test_policy_create_saves_version_one_and_audits(analyst: User) -> None:
    version = policy_create(analyst, "Routing fault credit", {"basis": {"kind": "pro_rata"}})
    assert version.version == 1 and version.policy.name == "Routing fault credit"
    assert version.document["basis"]["hours_per_month"] == 730
    entry = AuditEntry.objects.get(action="remedy.policy_create")
    assert entry.actor == "ana" and entry.after["policy"] == "Routing fault credit"


def test_policy_create_from_a_preset(analyst: User) -> None:
    version = policy_create(analyst, "Ofgem", preset="ofgem_gss")
    assert version.preset == "ofgem_gss"
    assert validate_policy(version.document) == PRESETS["ofgem_gss"]


@pytest.mark.parametrize(
    ("name", "document", "preset", "field"),
    [
        ("", PRO_RATA, "", "name"),
        ("x" * 121, PRO_RATA, "", "name"),
        ("Credit", None, "", "document"),
        ("Credit", None, "texas", "preset"),
        (
            "Credit",
            {**PRO_RATA, "eligibility": {"products": ["NOPE"]}},
            "",
            "eligibility.products.0",
        ),
        (
            "Credit",
            {**PRO_RATA, "non_monetary": [{"description": "10 GB", "products": ["GONE"]}]},
            "",
            "non_monetary.0.products.0",
        ),
        ("Credit", {"basis": {"kind": "pro_rata"}, "cap_cents": -5}, "", "cap_cents"),
    ],
)
def test_policy_create_refuses_bad_input_and_writes_nothing(
    analyst: User, name: str, document: Any, preset: str, field: str
) -> None:
    with pytest.raises(AmendsError) as caught:
        policy_create(analyst, name, document, preset)
    assert caught.value.field == field
    assert not PolicyVersion.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="remedy.").exists()


def test_policy_names_are_unique(analyst: User) -> None:
    policy_create(analyst, "Credit", PRO_RATA)
    with pytest.raises(Conflict) as caught:
        policy_create(analyst, "Credit", PRO_RATA)
    assert caught.value.field == "name"


def test_revising_makes_a_new_version_and_an_unchanged_document_changes_nothing(
    analyst: User,
) -> None:
    first = policy_create(analyst, "Credit", PRO_RATA)
    second = policy_revise(analyst, first.policy, {**PRO_RATA, "minimum_cents": 500})
    assert second.version == 2 and second.document["minimum_cents"] == 500
    assert first.document["minimum_cents"] == 0  # versions are immutable
    again = policy_revise(analyst, first.policy, {**PRO_RATA, "minimum_cents": 500})
    assert again.pk == second.pk
    assert AuditEntry.objects.filter(action="remedy.policy_revise").count() == 1
    with pytest.raises(AmendsError) as caught:
        policy_revise(analyst, first.policy, {**PRO_RATA, "minimum_cents": "500"})
    assert caught.value.field == "minimum_cents"
    assert first.policy.versions.count() == 2


def test_program_create_numbers_programs_per_year(analyst: User) -> None:
    outage = outage_row()
    version = policy()
    first = program_create(analyst, "Routing fault", [outage, outage], version)
    second = program_create(analyst, "Fibre cut", [outage], version)
    year = first.created_at.year
    assert first.reference == f"REM-{year}-0001" and second.reference == f"REM-{year}-0002"
    assert list(first.outages.all()) == [outage]
    assert first.status == ProgramStatus.DRAFT and first.author == analyst
    entry = AuditEntry.objects.get(action="remedy.program_create", object_id=str(first.pk))
    assert entry.after["outages"] == [outage.reference]


def test_program_create_refuses_no_outages_or_no_name(analyst: User) -> None:
    version = policy()
    with pytest.raises(AmendsError) as caught:
        program_create(analyst, "Routing fault", [], version)
    assert caught.value.field == "outages"
    with pytest.raises(AmendsError) as caught:
        program_create(analyst, "  ", [outage_row()], version)
    assert caught.value.field == "name"
    assert not Program.objects.exists()


def test_program_policy_changes_only_before_approval(analyst: User) -> None:
    outage: Outage = outage_row()
    made = program_create(analyst, "Routing fault", [outage], policy())
    Program.objects.filter(pk=made.pk).update(status=ProgramStatus.CALCULATED)
    other = policy(preset="vic_gsl")
    changed = program_set_policy(analyst, made, other)
    assert changed.policy_version == other and changed.status == ProgramStatus.DRAFT
    Program.objects.filter(pk=made.pk).update(status=ProgramStatus.APPROVED)
    with pytest.raises(Conflict) as caught:
        program_set_policy(analyst, made, policy(preset="ny_psc"))
    assert caught.value.field == "policy_version"
    made.refresh_from_db()
    assert made.policy_version == other
