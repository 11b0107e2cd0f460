"""No published file ever names a customer: every file (and every gzip twin) is scanned for
every customer's and service's identifiers after outages of every scope kind."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from amends.network.models import Customer, Service
from amends.outages.models import Visibility
from amends.outages.scope import ScopeSpec
from amends.outages.services import (
    outage_declare,
    outage_post_update,
    outage_restore,
    outage_still_out,
)
from amends.statuspage import publish
from tests.factories import Operator

pytestmark = pytest.mark.django_db


def _distinctive(operator: Operator) -> list[str]:
    """Give every customer and service identifiers nothing else could contain; return them
    with the identifiers the factory gave (names, shared mobile)."""
    secrets = ["61412345678", "0412345678", "+61 412"]
    for n, customer in enumerate(Customer.objects.order_by("pk"), start=1):
        secrets.append(customer.name)  # as the factory named them ("Customer C1")
        customer.external_id = f"CUSTX{n}Q7"
        customer.name = f"Philippa Quaintrell{n}"
        customer.preferred_name = f"Pippaz{n}"
        customer.email = f"pquaint{n}@mailinator.example"
        customer.phone = f"+6129876543{n}"
        customer.payment_reference = f"PAYREF{n}Z"
        customer.save()
        secrets += [
            customer.external_id, customer.name, customer.preferred_name, customer.email,
            customer.phone, customer.payment_reference, customer.phone.removeprefix("+61"),
        ]  # fmt: skip
    for n, service in enumerate(Service.objects.order_by("pk"), start=1):
        service.external_id = f"SVCX{n}Q7"
        service.address = f"{n} Quaintrell Crescent"
        service.save()
        secrets += [service.external_id, service.address]
    return secrets


def _published_texts(root: Path) -> dict[str, str]:
    current = root / os.readlink(root / "current")
    texts = {}
    for path in current.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            texts[str(path.relative_to(current))] = data.decode("utf-8")
    return texts


def test_no_customer_identifier_in_any_published_file(site_root: Path, operator: Operator) -> None:
    secrets = _distinctive(operator)
    first = operator.customers["C1"]
    service_ids = list(
        Service.objects.filter(customer__in=[first]).values_list("external_id", flat=True)
    )
    scopes = [
        [ScopeSpec(kind="state", state="NSW")],
        [ScopeSpec(kind="element", element="X3")],
        [ScopeSpec(kind="services", services=service_ids)],
        [ScopeSpec(kind="locality", locality="Wagga Wagga", state="NSW", product="MOB")],
    ]
    outages = [
        outage_declare(
            actor="commander-xq7",
            title=f"Outage {i}",
            scope_items=items,
            summary="Public summary.",
            cause_public="Public cause.",
            cause_internal="INTERNAL-CAUSE vendor ticket 99887766",
        ).outage
        for i, items in enumerate(scopes)
    ]
    outage_post_update(
        actor="commander-xq7",
        outage=outages[0],
        message=f"Called {first.name} at {first.mobile}: INTERNAL-NOTE",
        visibility=Visibility.INTERNAL,
    )
    outage_restore(actor="commander-xq7", outage=outages[1])
    outage_still_out(actor="commander-xq7", outage=outages[1], customer=first)
    record = publish.publish_site(trigger="test")
    assert record.status == "succeeded", record.error

    texts = _published_texts(site_root)
    assert len(texts) > 40 and any(name.startswith("lookup/2") for name in texts)
    assert any(name.startswith("lookup/locality/NSW/") for name in texts)
    forbidden = [*secrets, "INTERNAL-CAUSE", "99887766", "INTERNAL-NOTE", "commander-xq7"]
    leaks = [(name, s) for name, text in texts.items() for s in forbidden if s in text]
    assert leaks == []
    # …while the public facts are there.
    assert any("Public cause." in text for text in texts.values())
    assert "Wagga Wagga" in texts["index.html"]
