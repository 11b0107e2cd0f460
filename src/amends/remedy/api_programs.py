"""REST endpoints for remediation policies, programs and calculations (/api/v1/remedy/…):
policies (list, presets, create, revise), programs (list, create, detail, change policy),
calculate, calculations and their entitlements, and the difference between two versions.
Thin calls onto the services; a refused policy names its field (``basis.amount_cents``).

Tokens need the ``remedy:read`` scope to read (any staff role) and ``remedy:write`` to write
(the remediation analyst or admin role).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as StatusResponse

from amends.api.auth import caller
from amends.api.pagination import paged
from amends.core.errors import NotFound
from amends.outages import queries as outage_queries
from amends.outages.api import aware
from amends.remedy.models import (
    Calculation,
    Entitlement,
    Policy,
    PolicyVersion,
    Program,
    ProgramStatus,
)
from amends.remedy.policy import PRESET_SOURCES, PRESETS
from amends.remedy.services import programs
from amends.remedy.services.calculation import calculate, calculation_diff
from amends.remedy.services.credit_notices import Telling, telling
from amends.remedy.services.programs import WRITERS
from amends.remedy.services.review import program_by_reference

router = Router(tags=["remediation programs"])
READ, WRITE = "remedy:read", "remedy:write"


class PolicyVersionOut(Schema):
    policy_id: int
    policy: str
    version: int
    preset: str
    author: str
    created_at: datetime
    document: dict[str, Any]

    @staticmethod
    def resolve_policy(version: PolicyVersion) -> str:
        return version.policy.name


class PolicyOut(Schema):
    id: int
    name: str
    description: str
    versions: list[PolicyVersionOut]

    @staticmethod
    def resolve_versions(policy: Policy) -> list[PolicyVersion]:
        return list(policy.versions.select_related("policy").order_by("-version"))


class PresetOut(Schema):
    name: str
    source: str
    document: dict[str, Any]


class PolicyIn(Schema):
    name: str
    document: dict[str, Any] | None = Field(None, description="default: the preset's")
    preset: str = ""


class ReviseIn(Schema):
    document: dict[str, Any]


class CalculationOut(Schema):
    version: int
    policy_version: int
    as_of: datetime
    inputs_digest: str
    calculated_by: str
    created_at: datetime
    affected_customers: int
    eligible_customers: int
    total_cents: int
    currency: str = Field(description="ISO 4217 code of every amount (the policy's).")
    interest_rate: str | None
    duration_ms: int

    @staticmethod
    def resolve_policy_version(calculation: Calculation) -> int:
        return calculation.policy_version.version

    @staticmethod
    def resolve_currency(calculation: Calculation) -> str:
        return calculation.policy_version.currency

    @staticmethod
    def resolve_interest_rate(calculation: Calculation) -> str | None:
        rate = calculation.interest_rate
        return None if rate is None else format(rate.normalize(), "f")


class ProgramOut(Schema):
    reference: str
    name: str
    status: str
    outages: list[str]
    policy: str
    policy_version: int
    currency: str = Field(description="ISO 4217 code of the program's amounts.")
    author: str
    created_at: datetime

    @staticmethod
    def resolve_currency(program: Program) -> str:
        return program.policy_version.currency

    @staticmethod
    def resolve_outages(program: Program) -> list[str]:
        return [outage.reference for outage in program.outages.order_by("started_at")]

    @staticmethod
    def resolve_policy(program: Program) -> str:
        return program.policy_version.policy.name

    @staticmethod
    def resolve_policy_version(program: Program) -> int:
        return program.policy_version.version

    @staticmethod
    def resolve_author(program: Program) -> str:
        return program.author.get_username()


class TellingOut(Schema):
    untold: int = Field(description="paid customers no credit notice has told yet")
    not_reached: int = Field(
        description="paid customers a credit notice did not reach: every channel failed or "
        "no way to reach them (POST …/credit-notices with retry_unreached tells them again)"
    )


class ProgramDetail(ProgramOut):
    calculations: list[CalculationOut]
    credit_notices: TellingOut

    @staticmethod
    def resolve_calculations(program: Program) -> list[Calculation]:
        return list(program.calculations.select_related("policy_version").order_by("-version"))

    @staticmethod
    def resolve_credit_notices(program: Program) -> Telling:
        return telling(program)


class ProgramIn(Schema):
    name: str
    outages: list[str] = Field(description="outage references")
    policy: str = Field(description="policy name, or NAME:VERSION; bare: the latest version")


class PolicyChangeIn(Schema):
    policy: str = Field(description="policy name, or NAME:VERSION")


class CalculateIn(Schema):
    as_of: datetime | None = Field(None, description="open windows count to here (default now)")


class EntitlementOut(Schema):
    customer: str
    eligible: bool
    exclusion: str
    outage_seconds: int
    outage_end: datetime | None
    services: int
    base_cents: int
    sla_cents: int
    bonus_cents: int
    interest_cents: int
    adjustment_cents: int
    total_cents: int
    non_monetary: str
    explanation: str

    @staticmethod
    def resolve_customer(entitlement: Entitlement) -> str:
        return entitlement.customer.external_id


class ChangeOut(Schema):
    customer: str
    name: str
    old_cents: int | None
    new_cents: int | None
    change_cents: int
    old_exclusion: str | None
    new_exclusion: str | None


class DiffOut(Schema):
    old_version: int
    new_version: int
    same_inputs: bool
    added: int
    removed: int
    changed: int
    unchanged: int
    total_change_cents: int
    largest: list[ChangeOut]


# --- policies -------------------------------------------------------------------------------


@router.get("/policies", response=list[PolicyOut], summary="Policies with their versions")
def list_policies(request: HttpRequest) -> Any:
    caller(request).require(READ)
    return Policy.objects.order_by("name")


@router.get("/policies/presets", response=list[PresetOut], summary="The shipped presets")
def list_presets(request: HttpRequest) -> Any:
    caller(request).require(READ)
    return [
        {"name": name, "source": " ".join(PRESET_SOURCES[name].split()), "document": doc.as_json()}
        for name, doc in PRESETS.items()
    ]


@router.post("/policies", response={201: PolicyVersionOut}, summary="Create a policy (v1)")
def create_policy(request: HttpRequest, body: PolicyIn) -> Any:
    who = caller(request)
    who.require(WRITE, *WRITERS)
    version = programs.policy_create(who.user, body.name, body.document, body.preset)
    return StatusResponse(201, version)


def _policy(policy_id: int) -> Policy:
    found = Policy.objects.filter(pk=policy_id).first()
    if found is None:
        raise NotFound(f"no policy {policy_id}", field="policy_id")
    return found


@router.get("/policies/{policy_id}", response=PolicyOut, summary="A policy and its versions")
def get_policy(request: HttpRequest, policy_id: int) -> Any:
    caller(request).require(READ)
    return _policy(policy_id)


@router.post(
    "/policies/{policy_id}/versions",
    response={201: PolicyVersionOut},
    summary="Save the next version (an unchanged document returns the latest)",
)
def revise_policy(request: HttpRequest, policy_id: int, body: ReviseIn) -> Any:
    who = caller(request)
    who.require(WRITE, *WRITERS)
    return StatusResponse(201, programs.policy_revise(who.user, _policy(policy_id), body.document))


# --- programs -------------------------------------------------------------------------------


def _program(reference: str) -> Program:
    return program_by_reference(reference)


@router.get("/programs", response=list[ProgramOut], summary="Programs, newest first")
@paged
def list_programs(request: HttpRequest, status: ProgramStatus | None = None) -> Any:
    caller(request).require(READ)
    found = Program.objects.select_related("policy_version__policy", "author")
    return found.filter(status=status) if status else found


@router.post("/programs", response={201: ProgramDetail}, summary="Open a program")
def create_program(request: HttpRequest, body: ProgramIn) -> Any:
    who = caller(request)
    who.require(WRITE, *WRITERS)
    outages = []
    for i, reference in enumerate(body.outages):
        try:
            outages.append(outage_queries.outage_by_reference(reference))
        except NotFound as exc:
            raise NotFound(exc.message, field=f"outages[{i}]") from None
    version = programs.policy_version_by_spec(body.policy)
    return StatusResponse(201, programs.program_create(who.user, body.name, outages, version))


@router.get("/programs/{reference}", response=ProgramDetail, summary="A program and its versions")
def get_program(request: HttpRequest, reference: str) -> Any:
    caller(request).require(READ)
    return _program(reference)


@router.post("/programs/{reference}/policy", response=ProgramDetail, summary="Change its policy")
def change_policy(request: HttpRequest, reference: str, body: PolicyChangeIn) -> Any:
    who = caller(request)
    who.require(WRITE, *WRITERS)
    version = programs.policy_version_by_spec(body.policy)
    return programs.program_set_policy(who.user, _program(reference), version)


@router.post(
    "/programs/{reference}/calculate",
    response={201: CalculationOut},
    summary="Calculate: a new version",
)
def calculate_program(request: HttpRequest, reference: str, body: CalculateIn) -> Any:
    who = caller(request)
    who.require(WRITE, *WRITERS)
    return StatusResponse(201, calculate(who.user, _program(reference), aware(body.as_of)))


@router.get(
    "/programs/{reference}/calculations/{version}/entitlements",
    response=list[EntitlementOut],
    summary="One calculation's entitlements, largest first",
)
@paged
def list_entitlements(
    request: HttpRequest, reference: str, version: int, customer: str | None = None
) -> Any:
    caller(request).require(READ)
    calculation = programs.calculation_by_version(_program(reference), version)
    rows = Entitlement.objects.filter(calculation=calculation).select_related("customer")
    if customer:
        rows = rows.filter(customer__external_id=customer)
    return rows.order_by("-total_cents", "customer_id")


@router.get("/programs/{reference}/diff", response=DiffOut, summary="What changed between two")
def diff_calculations(
    request: HttpRequest, reference: str, old: int, new: int, limit: int = 50, offset: int = 0
) -> Any:
    caller(request).require(READ)
    program = _program(reference)
    before = programs.calculation_by_version(program, old)
    after = programs.calculation_by_version(program, new)
    diff = calculation_diff(before, after, limit=limit, offset=offset)
    return {
        **{k: getattr(diff, k) for k in ("added", "removed", "changed", "unchanged")},
        "old_version": before.version,
        "new_version": after.version,
        "same_inputs": before.inputs_digest == after.inputs_digest,
        "total_change_cents": diff.total_change_cents,
        "largest": [
            {**change.__dict__, "customer": change.external_id, "change_cents": change.change_cents}
            for change in diff.largest
        ],
    }
