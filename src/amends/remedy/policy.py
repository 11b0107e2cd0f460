"""Remediation policies: what a customer is owed for an outage, as a validated document.

A policy document says who is eligible, how each affected service's amount is computed (the
*basis*), the SLA credits of services restored later than their tier's target, what goodwill is
added by segment, the minimum and cap per customer, the one rounding rule, foregone interest on
late refunds and any non-monetary remedy. Documents are validated strictly (``extra="forbid"``,
no type coercion) by :func:`validate_policy`, which names the offending field as a dotted path
(``basis.amount_cents``) so every interface can point at it.

Amounts are whole cents (ints). Durations are whole seconds of the service's merged time
without service (``remedy.calculation`` merges overlapping windows). :data:`PRESETS` ships one
document per real rule we know of; each preset function's docstring cites its source.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import get_currency_precision, is_currency
from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from amends.core.errors import AmendsError
from amends.core.money import Rounding, round_cents

# Bounds keep every intermediate product inside 64-bit integers on SQLite (see calculation).
MAX_CENTS = 100_000_000  # $1,000,000
MAX_HOURS = 24 * 366  # a year

Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]
Hours = Annotated[int, Field(ge=0, le=MAX_HOURS)]
SegmentName = Literal["consumer", "small_business", "enterprise", "government"]
SlaTierName = Literal["standard", "business", "enterprise"]
ProductCode = Annotated[str, Field(min_length=1, max_length=64)]
ExternalId = Annotated[str, Field(min_length=1, max_length=64)]

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365
RATE_SCALE = 10_000  # annual rates are stored to 4 decimal places of a percent


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Eligibility(_Strict):
    """Who is covered. Empty lists mean "everyone"."""

    min_outage_minutes: int = Field(
        default=0, ge=0, le=MAX_HOURS * 60, description="Merged time without service, per customer."
    )
    segments: list[SegmentName] = Field(default_factory=list)
    products: list[ProductCode] = Field(
        default_factory=list, description="Only affected services on these products count."
    )
    customers: Literal["all", "current", "former"] = "all"
    exclude_customers: list[ExternalId] = Field(
        default_factory=list, description="Customer external ids with no entitlement."
    )
    min_affected_customers: int = Field(
        default=0,
        ge=0,
        le=100_000_000,
        description="Nothing is owed when the program's outages affected fewer customers.",
    )


class ProRata(_Strict):
    """Each service's monthly charge for the hours lost: charge × hours ÷ hours_per_month."""

    kind: Literal["pro_rata"]
    hours_per_month: int = Field(default=730, ge=1, le=744)


class PerStartedDay(_Strict):
    """1/days_per_month of the monthly charge for each 24 hours or part of them, for services
    out at least ``min_outage_hours`` (shorter outages earn nothing). With ``per_interruption``
    each interruption of a service (its overlapping windows merged) is counted on its own and
    only if it lasted ``min_outage_hours``; otherwise the service's total time out is."""

    kind: Literal["per_started_day"]
    days_per_month: int = Field(default=30, ge=1, le=31)
    min_outage_hours: Hours = 24
    per_interruption: bool = False


class FixedPerDay(_Strict):
    """A fixed amount for each calendar day (or part) a service stays out after a grace period
    of ``grace_days`` full days, counted from the day after the outage started, in working days
    (Monday–Friday except ``holidays``) or calendar days, in ``time_zone``."""

    kind: Literal["fixed_per_day"]
    amount_cents: Cents
    grace_days: int = Field(default=2, ge=0, le=60)
    grace_counts: Literal["working_days", "calendar_days"] = "working_days"
    holidays: list[date] = Field(default_factory=list)
    time_zone: str = Field(default="", max_length=60, description="Empty: AMENDS_TIME_ZONE.")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{value!r} is not a time zone (e.g. Europe/London)") from None
        return value


class FixedAfterHours(_Strict):
    """A fixed amount once a service has been out longer than ``after_hours``, plus an amount
    for each further ``further_every_hours`` (complete), up to ``cap_cents`` per service. The
    first amount may differ by segment (e.g. domestic and non-domestic)."""

    kind: Literal["fixed_after_hours"]
    after_hours: Hours = 12
    amount_cents: Cents
    amount_cents_by_segment: dict[SegmentName, Cents] = Field(default_factory=dict)
    further_every_hours: int = Field(default=12, ge=1, le=MAX_HOURS)
    further_amount_cents: Cents = 0
    cap_cents: Cents | None = None


class Tier(_Strict):
    over_hours: Hours
    amount_cents: Cents


class Tiered(_Strict):
    """The amount of the highest tier whose ``over_hours`` a service's time out exceeds."""

    kind: Literal["tiered"]
    tiers: list[Tier] = Field(min_length=1, max_length=20)

    @field_validator("tiers")
    @classmethod
    def _ascending(cls, tiers: list[Tier]) -> list[Tier]:
        for lower, higher in zip(tiers, tiers[1:], strict=False):
            if higher.over_hours <= lower.over_hours:
                raise ValueError("tiers must be in increasing order of over_hours")
            if higher.amount_cents < lower.amount_cents:
                raise ValueError("a longer tier cannot pay less than a shorter one")
        return tiers


class Fixed(_Strict):
    """The same amount for every affected service."""

    kind: Literal["fixed"]
    amount_cents: Cents


Basis = Annotated[
    ProRata | PerStartedDay | FixedPerDay | FixedAfterHours | Tiered | Fixed,
    Field(discriminator="kind"),
]
BASIS_KINDS = (
    "pro_rata",
    "per_started_day",
    "fixed_per_day",
    "fixed_after_hours",
    "tiered",
    "fixed",
)


class SlaCredit(_Strict):
    """A service credit for services of one SLA tier restored late: ``percent_per_block`` % of
    the service's monthly charge for each started ``block_minutes`` of its merged time without
    service beyond ``restore_within_minutes``, at most ``max_percent`` % of the monthly charge.
    E.g. a 4 h target, 10 % per started 4 h: out 6 h 10 min is 1 block, 10 %; out 8 h 01 min
    is 2 blocks, 20 %. Whole percents, as contracts state them; the credit's fractions of a
    cent are kept exact until the customer's one rounding. Percents up to 100 and minutes up
    to a year keep every product in the calculation as small as pro-rata's charge × seconds."""

    restore_within_minutes: int = Field(
        ge=0, le=MAX_HOURS * 60, description="The tier's restoration target: no credit within it."
    )
    percent_per_block: int = Field(
        ge=1, le=100, description="Whole % of the monthly charge per started block past the target."
    )
    block_minutes: int = Field(ge=1, le=MAX_HOURS * 60, description="Length of one block.")
    max_percent: int = Field(
        default=100, ge=1, le=100, description="Most a service gets, in % of its monthly charge."
    )

    @model_validator(mode="after")
    def _block_within_maximum(self) -> SlaCredit:
        if self.percent_per_block > self.max_percent:
            raise _FieldProblem("percent_per_block", "cannot be more than max_percent")
        return self


class Interest(_Strict):
    """Foregone interest on the amount, simple, from the customer's outage end to payment."""

    annual_rate_percent: Decimal | None = Field(
        default=None,
        ge=0,
        le=100,
        decimal_places=4,
        description="Empty: AMENDS_REMEDY_INTEREST_RATE.",
    )


class NonMonetary(_Strict):
    """A remedy that is not money (e.g. "10 GB bonus data"), for eligible customers with an
    affected service on one of ``products`` (any product if empty)."""

    description: str = Field(min_length=1, max_length=60)
    products: list[ProductCode] = Field(default_factory=list)


class PolicyDocument(_Strict):
    """One version of a policy's rules."""

    description: str = Field(default="", max_length=2000)
    currency: str = Field(
        default="AUD",
        min_length=3,
        max_length=3,
        description="ISO 4217 code of every amount in the document and of what is paid.",
    )
    eligibility: Eligibility = Eligibility()
    basis: Basis
    sla_credits: dict[SlaTierName, SlaCredit] = Field(
        default_factory=dict,
        description="Per service, by its SLA tier: a credit added to the basis when restored late.",
    )
    goodwill_cents: dict[SegmentName, Cents] = Field(
        default_factory=dict, description="Bonus per eligible customer, by segment."
    )
    minimum_cents: Cents = 0
    cap_cents: Cents | None = None
    rounding: Rounding = Rounding.HALF_UP
    interest: Interest | None = None
    non_monetary: list[NonMonetary] = Field(default_factory=list, max_length=3)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        """Amounts are whole cents: a currency without two minor digits (JPY, KWD) would be
        paid a hundred times wrong."""
        if not is_currency(value) or get_currency_precision(value) != 2:
            raise ValueError(
                f"{value!r} is not an ISO 4217 currency with cents (e.g. AUD, GBP, USD, EUR)"
            )
        return value

    @model_validator(mode="after")
    def _minimum_within_cap(self) -> PolicyDocument:
        if self.cap_cents is not None and self.minimum_cents > self.cap_cents:
            raise _FieldProblem("minimum_cents", "cannot be more than cap_cents")
        return self

    def as_json(self) -> dict[str, Any]:
        """The document as stored (JSON types only, every default written out)."""
        return self.model_dump(mode="json")


class _FieldProblem(ValueError):
    """A cross-field problem that belongs to one named field (relative to the model that
    raises it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _dotted(loc: tuple[int | str, ...]) -> str:
    """('basis', 'tiered', 'tiers', 0, 'amount_cents') → 'basis.tiers.0.amount_cents' (the
    discriminated union adds the kind to the path; people think of it as one field)."""
    parts = [
        str(part)
        for i, part in enumerate(loc)
        if not (i == 1 and loc[0] == "basis") and part != "[key]"
    ]
    return ".".join(parts) or "document"


def validate_policy(data: Any) -> PolicyDocument:
    """Check a policy document (parsed JSON: dicts, lists, strings, numbers) strictly.

    Raises AmendsError naming the first problem's field as a dotted path, with how many other
    problems there are. Validation goes through JSON so that dates and rates may be written as
    JSON strings while ints stay ints (``"12"`` is refused where a number is expected).
    """
    if not isinstance(data, dict):
        raise AmendsError("a policy must be a JSON object", field="document")
    try:
        raw = json.dumps(data)
    except (TypeError, ValueError):
        raise AmendsError("is not JSON", field="document") from None
    try:
        return PolicyDocument.model_validate_json(raw)
    except ValidationError as exc:
        raise _first_problem(exc) from None


def _first_problem(exc: ValidationError) -> AmendsError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, _FieldProblem):
        within = [*first["loc"], cause.field]
        field, message = _dotted(tuple(within)), str(cause)
    else:
        field, message = _dotted(first["loc"]), first["msg"]
        if first["type"] == "union_tag_invalid" or first["type"] == "union_tag_not_found":
            field, message = "basis.kind", f"must be one of {', '.join(BASIS_KINDS)}"
        message = message.removeprefix("Value error, ")
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return AmendsError(message, field=field)


# --- Interest -------------------------------------------------------------------------------


def default_interest_rate() -> Decimal:
    """AMENDS_REMEDY_INTEREST_RATE, % a year."""
    return Decimal(settings.AMENDS_REMEDY_INTEREST_RATE)


def rate_units(annual_rate: Decimal) -> int:
    """An annual rate in % as an integer number of 1/RATE_SCALE percent (10.35 → 103500)."""
    return int(annual_rate * RATE_SCALE)


def interest_days(from_: datetime, to: datetime) -> int:
    """Whole days from ``from_`` to ``to`` (none when ``to`` is not later)."""
    return max(0, int(to.timestamp()) - int(from_.timestamp())) // SECONDS_PER_DAY


def interest_cents(
    principal_cents: int,
    from_: datetime,
    to: datetime,
    annual_rate: Decimal,
    rounding: Rounding = Rounding.HALF_UP,
) -> int:
    """Simple interest on ``principal_cents`` at ``annual_rate`` % a year (e.g. ``Decimal("9.6")``)
    for the whole days from ``from_`` (the customer's outage end) to ``to`` (the payment date),
    on a 365-day year, rounded once by ``rounding``. The calculation stores this to its
    ``as_of``; the payments side calls it again with the actual payment date.
    """
    days = interest_days(from_, to)
    numerator = principal_cents * rate_units(annual_rate) * days
    return round_cents(Decimal(numerator) / (100 * RATE_SCALE * DAYS_PER_YEAR), rounding)


# --- Grace periods (calendar days after working days) ---------------------------------------


def grace_end(start: datetime, basis: FixedPerDay) -> datetime:
    """When ``basis``'s grace ends for an outage starting at ``start``: local midnight after the
    ``grace_days``-th full day following the start day (working days skip weekends and holidays).
    """
    zone = ZoneInfo(basis.time_zone or settings.TIME_ZONE)
    day = start.astimezone(zone).date()
    holidays = set(basis.holidays)
    counted = 0
    while counted < basis.grace_days:
        day += timedelta(days=1)
        if basis.grace_counts == "calendar_days" or (day.isoweekday() <= 5 and day not in holidays):
            counted += 1
    next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return next_midnight


# --- Presets ---------------------------------------------------------------------------------


def _pro_rata() -> PolicyDocument:
    """Plain pro-rata credit: each affected service's monthly charge × hours without service ÷
    730 (the average hours in a month, 8,760 ÷ 12), rounded half up once per customer."""
    return PolicyDocument(
        description="Pro-rata credit of each affected service's monthly charge for the time lost.",
        basis=ProRata(kind="pro_rata"),
    )


def _ny_psc() -> PolicyDocument:
    """New York Public Service Commission service-interruption credit (16 NYCRR, as applied to
    telephone and cable services): 1/30 of the monthly rate for each 24 hours or part thereof
    of each interruption of 24 hours or more, when the outage affected 100 or more subscribers
    (PRODUCT.md §F)."""
    return PolicyDocument(
        description=(
            "New York PSC: nothing owed when fewer than 100 subscribers were affected; each "
            "interruption of a service of 24 h or more counted on its own (overlapping windows "
            "merged first), 1/30 of the monthly rate per 24 h or part of it."
        ),
        currency="USD",
        eligibility=Eligibility(min_outage_minutes=24 * 60, min_affected_customers=100),
        basis=PerStartedDay(
            kind="per_started_day", days_per_month=30, min_outage_hours=24, per_interruption=True
        ),
    )


def _ofcom_auto() -> PolicyDocument:
    """Ofcom automatic compensation scheme (UK landline and broadband, voluntary code since
    April 2019): for a total loss of service not repaired by the end of the second full working
    day after it began, a payment for each calendar day (or part) it stays unrepaired. £10.34 a
    day is the rate from 1 April 2026 (uprated each April in line with CPI: check it);
    England and Wales bank holidays must be listed in ``holidays`` for the year in question."""
    return PolicyDocument(
        description="Ofcom automatic compensation: per calendar day after 2 full working days.",
        currency="GBP",
        basis=FixedPerDay(
            kind="fixed_per_day",
            amount_cents=1034,
            grace_days=2,
            grace_counts="working_days",
            time_zone="Europe/London",
        ),
    )


def _ofgem_gss() -> PolicyDocument:
    """Ofgem guaranteed standards of performance, supply restoration in normal weather
    (Electricity (Standards of Performance) Regulations 2015, reg. 5, amounts as amended in
    2023): £95 to a domestic customer (£190 non-domestic) whose supply is not restored within
    12 hours, plus £45 for each further 12 hours off supply."""
    business = 19000
    return PolicyDocument(
        description="Ofgem GSS (normal weather): £95/£190 after 12 h, £45 per further 12 h.",
        currency="GBP",
        basis=FixedAfterHours(
            kind="fixed_after_hours",
            after_hours=12,
            amount_cents=9500,
            amount_cents_by_segment={
                "small_business": business,
                "enterprise": business,
                "government": business,
            },
            further_every_hours=12,
            further_amount_cents=4500,
        ),
    )


def _vic_gsl() -> PolicyDocument:
    """Victorian guaranteed service level payments for supply restoration (Essential Services
    Commission, Electricity Distribution Code of Practice, from 1 July 2021): $130 for more than
    18 hours of unplanned sustained interruptions in a year, $190 for more than 30 hours, $380
    for more than 60 hours; one payment per category, so the highest tier reached. Only the
    program's outages are counted: add earlier interruptions of the year as another outage."""
    return PolicyDocument(
        description="Victorian GSL: > 18 h $130, > 30 h $190, > 60 h $380 (highest tier).",
        basis=Tiered(
            kind="tiered",
            tiers=[
                Tier(over_hours=18, amount_cents=13000),
                Tier(over_hours=30, amount_cents=19000),
                Tier(over_hours=60, amount_cents=38000),
            ],
        ),
    )


PRESETS: dict[str, PolicyDocument] = {
    "pro_rata": _pro_rata(),
    "ny_psc": _ny_psc(),
    "ofcom_auto": _ofcom_auto(),
    "ofgem_gss": _ofgem_gss(),
    "vic_gsl": _vic_gsl(),
}
PRESET_SOURCES: dict[str, str] = {
    "pro_rata": _pro_rata.__doc__ or "",
    "ny_psc": _ny_psc.__doc__ or "",
    "ofcom_auto": _ofcom_auto.__doc__ or "",
    "ofgem_gss": _ofgem_gss.__doc__ or "",
    "vic_gsl": _vic_gsl.__doc__ or "",
}
