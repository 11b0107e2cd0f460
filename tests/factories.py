"""Small, readable operators for tests, built straight with the ORM (and SQL for bulk)."""

from __future__ import annotations

from dataclasses import dataclass, field

import h3
from django.db import connection

from amends.network.models import Customer, NetworkElement, Product, Service, Team


def element(
    external_id: str, kind: str, parent: NetworkElement | None = None, state: str = ""
) -> NetworkElement:
    path = f"{parent.path if parent else '/'}{external_id}/"
    return NetworkElement.objects.create(
        external_id=external_id, name=external_id, kind=kind, parent=parent, path=path, state=state
    )


@dataclass
class Operator:
    products: dict[str, Product] = field(default_factory=dict)
    elements: dict[str, NetworkElement] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)

    def service_ids(self, *external_ids: str) -> set[int]:
        return {self.services[e].pk for e in external_ids}


# (service id, customer id, product, leaf element, postcode, locality, state, remoteness, lat, lng)
SERVICES = [
    ("S1", "C1", "NBN", "N1", "2000", "Sydney", "NSW", "major_city", -33.8688, 151.2093),
    ("S2", "C1", "MOB", "CELL1", "2000", "Sydney", "NSW", "major_city", -33.8690, 151.2090),
    ("S3", "C2", "NBN", "N1", "2000", "Sydney", "NSW", "major_city", -33.8700, 151.2100),
    ("S4", "C3", "NBN", "N2", "2650", "Wagga Wagga", "NSW", "regional", -35.1082, 147.3598),
    ("S5", "C4", "MOB", "N2", "2650", "Wagga Wagga", "NSW", "regional", -35.1090, 147.3600),
    ("S6", "C5", "NBN", "N3", "3000", "Melbourne", "VIC", "major_city", -37.8136, 144.9631),
    ("S7", "C6", "NBN", "N3", "3000", "Melbourne", "VIC", "major_city", -37.8140, 144.9640),
]
CUSTOMERS = {
    "C1": ("consumer", False),
    "C2": ("small_business", False),
    "C3": ("consumer", True),
    "C4": ("consumer", False),
    "C5": ("enterprise", False),
    "C6": ("government", False),
}


def build_operator() -> Operator:
    op = Operator()
    team = Team.objects.create(external_id="TEAM", name="Care team")
    op.products = {
        "NBN": Product.objects.create(
            code="NBN", name="Home Internet", kind="fixed_broadband", monthly_charge_cents=8900
        ),
        "MOB": Product.objects.create(
            code="MOB", name="Mobile", kind="mobile", monthly_charge_cents=3500
        ),
    }
    core = element("CORE", "core")
    nsw, vic = element("R-NSW", "region", core, "NSW"), element("R-VIC", "region", core, "VIC")
    x1, x2 = element("X1", "exchange", nsw, "NSW"), element("X2", "exchange", nsw, "NSW")
    x3 = element("X3", "exchange", vic, "VIC")
    for leaf in (
        element("N1", "node", x1, "NSW"),
        element("CELL1", "cell", x1, "NSW"),
        element("N2", "node", x2, "NSW"),
        element("N3", "node", x3, "VIC"),
    ):
        op.elements[leaf.external_id] = leaf
    op.elements.update({e.external_id: e for e in (core, nsw, vic, x1, x2, x3)})
    for external_id, (segment, priority) in CUSTOMERS.items():
        op.customers[external_id] = Customer.objects.create(
            external_id=external_id,
            name=f"Customer {external_id}",
            segment=segment,
            priority_assistance=priority,
            team=team,
            mobile="+61412345678",
        )
    for sid, cid, product, leaf, postcode, locality, state, remoteness, lat, lng in SERVICES:
        op.services[sid] = Service.objects.create(
            external_id=sid,
            customer=op.customers[cid],
            product=op.products[product],
            monthly_charge_cents=op.products[product].monthly_charge_cents,
            postcode=postcode,
            locality=locality,
            state=state,
            remoteness=remoteness,
            latitude=lat,
            longitude=lng,
            h3_cell=h3.latlng_to_cell(lat, lng, 8),
            element=op.elements[leaf],
        )
    return op


def give_contacts() -> None:
    """Give every customer their own email address and mobile number (the operator's
    customers all share one mobile), so each can be told, and answer, apart."""
    for i, customer in enumerate(Customer.objects.order_by("external_id")):
        customer.email = f"{customer.external_id.lower()}@example.com"
        customer.mobile = f"+6141234560{i}"
        customer.save()


def bulk_services(
    count: int,
    *,
    customer: Customer,
    product: Product,
    postcode: str,
    state: str,
    remoteness: str = "major_city",
    prefix: str = "BULK",
) -> None:
    """Insert ``count`` services in one statement (for thresholds in the hundreds of thousands)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %s) "
            "INSERT INTO network_service (external_id, customer_id, product_id, "
            "monthly_charge_cents, address, postcode, locality, state, remoteness, h3_cell, "
            "sla_tier, is_active) "
            "SELECT CAST(%s AS TEXT) || CAST(n AS TEXT), %s, %s, 1000, '', %s, 'Bulk', %s, %s, "
            "'', 'standard', %s FROM seq",
            [count, f"{prefix}-", customer.pk, product.pk, postcode, state, remoteness, True],
        )
