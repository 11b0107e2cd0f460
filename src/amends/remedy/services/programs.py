"""Writes to policies and programs: create and revise a policy (each save a new immutable
version), create a program for some outages under a policy version, change its policy while it
is not yet approved. Each runs in one transaction with an audit entry.

Callers may pass arguments by position or by keyword; the other remedy services use keywords.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError, Conflict, NotFound
from amends.core.references import create_with_reference
from amends.core.roles import Role, has_role
from amends.network.models import Product
from amends.outages.models import Outage
from amends.remedy.models import Calculation, Policy, PolicyVersion, Program, ProgramStatus
from amends.remedy.policy import PRESETS, PolicyDocument, validate_policy

WRITERS = (Role.REMEDIATION_ANALYST, Role.ADMIN)
# A program's policy may change until it is approved; afterwards payments rely on it.
POLICY_CHANGEABLE = (ProgramStatus.DRAFT, ProgramStatus.CALCULATED, ProgramStatus.IN_REVIEW)


def require_writer(actor: audit.Actor) -> None:
    """A staff user must hold the remediation analyst (or admin) role. Named system actors
    (strings: the demo, scripts) are trusted."""
    if isinstance(actor, str) or actor is None:
        return
    if not has_role(actor, *WRITERS):
        raise AmendsError("your account has no role that may change remediation", status=403)


def _checked_document(document: Mapping[str, Any] | PolicyDocument) -> PolicyDocument:
    """Validate the document and the product codes it names (which only the database knows)."""
    doc = document if isinstance(document, PolicyDocument) else validate_policy(dict(document))
    named = [
        (f"eligibility.products.{i}", code) for i, code in enumerate(doc.eligibility.products)
    ] + [
        (f"non_monetary.{i}.products.{j}", code)
        for i, remedy in enumerate(doc.non_monetary)
        for j, code in enumerate(remedy.products)
    ]
    known = set(
        Product.objects.filter(code__in={code for _, code in named}).values_list("code", flat=True)
    )
    for field, code in named:
        if code not in known:
            raise AmendsError(f"{code!r} is not a product code", field=field)
    return doc


def policy_create(
    actor: audit.Actor,
    name: str,
    document: Mapping[str, Any] | PolicyDocument | None = None,
    preset: str = "",
) -> PolicyVersion:
    """Create a policy and its version 1 from ``document`` (parsed JSON or a PolicyDocument),
    or from the named ``preset`` when no document is given. Returns the version."""
    require_writer(actor)
    name = name.strip()
    if not name:
        raise AmendsError("is required", field="name")
    if len(name) > Policy._meta.get_field("name").max_length:  # type: ignore[operator]
        raise AmendsError("is longer than 120 characters", field="name")
    if preset and preset not in PRESETS:
        raise AmendsError(f"{preset!r} is not one of {', '.join(PRESETS)}", field="preset")
    if document is None:
        if not preset:
            raise AmendsError("give a policy document or a preset", field="document")
        document = PRESETS[preset]
    doc = _checked_document(document)
    try:
        with transaction.atomic():
            policy = Policy.objects.create(name=name, description=doc.description)
            version = PolicyVersion.objects.create(
                policy=policy,
                version=1,
                document=doc.as_json(),
                preset=preset,
                author=audit.actor_name(actor),
            )
            audit.record(
                actor,
                "remedy.policy_create",
                version,
                after={"policy": name, "version": 1, "preset": preset, "document": doc.as_json()},
            )
    except IntegrityError:
        raise Conflict(f"a policy named {name!r} already exists", field="name") from None
    return version


def policy_revise(
    actor: audit.Actor, policy: Policy, document: Mapping[str, Any] | PolicyDocument
) -> PolicyVersion:
    """Save ``document`` as the policy's next version. A document equal to the latest version
    changes nothing and returns that version."""
    require_writer(actor)
    doc = _checked_document(document)
    with transaction.atomic():
        locked = Policy.objects.select_for_update().get(pk=policy.pk)
        latest = locked.versions.order_by("-version").first()
        # Compared as documents, not as stored JSON: a version saved before a field existed
        # lacks its default (e.g. sla_credits) and still says the same.
        if latest is not None and validate_policy(latest.document) == doc:
            return latest
        number = latest.version + 1 if latest else 1
        version = PolicyVersion.objects.create(
            policy=locked,
            version=number,
            document=doc.as_json(),
            preset=latest.preset if latest else "",
            author=audit.actor_name(actor),
        )
        if locked.description != doc.description:
            locked.description = doc.description
            locked.save(update_fields=["description"])
        audit.record(
            actor,
            "remedy.policy_revise",
            version,
            before={"version": latest.version, "document": latest.document} if latest else None,
            after={"version": number, "document": doc.as_json()},
        )
    return version


def program_create(
    actor: User,
    name: str,
    outages: Sequence[Outage],
    policy_version: PolicyVersion,
) -> Program:
    """Open a remediation program (reference REM-YYYY-NNNN, status draft) for ``outages``
    under ``policy_version``; ``actor`` (a staff user) is its author."""
    require_writer(actor)
    name = name.strip()
    if not name:
        raise AmendsError("is required", field="name")
    if len(name) > Program._meta.get_field("name").max_length:  # type: ignore[operator]
        raise AmendsError("is longer than 200 characters", field="name")
    unique_outages = list({outage.pk: outage for outage in outages}.values())
    if not unique_outages:
        raise AmendsError("choose at least one outage", field="outages")
    with transaction.atomic():
        program = create_with_reference(
            Program,
            f"REM-{timezone.now().year}-",
            name=name,
            policy_version=policy_version,
            author=actor,
        )
        program.outages.set(unique_outages)
        audit.record(
            actor,
            "remedy.program_create",
            program,
            after=_snapshot(program, [o.reference for o in unique_outages]),
        )
    return program


def program_set_policy(
    actor: audit.Actor, program: Program, policy_version: PolicyVersion
) -> Program:
    """Put the program under another policy version; only before approval. A calculated
    program goes back to draft: its calculations were made under the old policy."""
    require_writer(actor)
    with transaction.atomic():
        locked = Program.objects.select_for_update().get(pk=program.pk)
        if locked.status not in POLICY_CHANGEABLE:
            raise Conflict(
                f"program {locked.reference} is {locked.get_status_display().lower()}; its "
                "policy can only change before approval",
                field="policy_version",
            )
        if locked.policy_version_id == policy_version.pk:
            return locked
        before = _snapshot(locked)
        locked.policy_version = policy_version
        locked.status = ProgramStatus.DRAFT
        locked.save(update_fields=["policy_version", "status", "updated_at"])
        audit.record(
            actor, "remedy.program_set_policy", locked, before=before, after=_snapshot(locked)
        )
    return locked


def _snapshot(program: Program, outages: list[str] | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "reference": program.reference,
        "name": program.name,
        "status": program.status,
        "policy_version": program.policy_version_id,
    }
    if outages is not None:
        state["outages"] = outages
    return state


# --- lookups (reads shared by the console, API and CLI) ---------------------------------------


def policy_version_by_spec(spec: str, *, field: str = "policy") -> PolicyVersion:
    """``NAME`` (its latest version) or ``NAME:VERSION``."""
    name, _, number = spec.strip().rpartition(":") if ":" in spec else (spec.strip(), "", "")
    versions = PolicyVersion.objects.select_related("policy").filter(policy__name=name.strip())
    if number:
        if not number.strip().isdigit():
            raise AmendsError(f"{number!r} is not a version number", field=field)
        versions = versions.filter(version=int(number))
    found = versions.order_by("-version").first()
    if found is None:
        raise NotFound(f"no policy version {spec!r}", field=field)
    return found


def calculation_by_version(program: Program, version: int) -> Calculation:
    found = program.calculations.filter(version=version).first()
    if found is None:
        raise NotFound(f"{program.reference} has no calculation version {version}", field="version")
    return found
