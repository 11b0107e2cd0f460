"""What each importable file holds: its columns, how each is parsed, where it goes.

The column names here are the file format (documented in README "Data files").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import h3

from amends.network.importer import fields as f
from amends.network.models import ElementKind, ProductKind, Remoteness, Segment, SlaTier, State

SqlType = Literal["text", "bigint", "double", "boolean", "time"]


@dataclass(frozen=True)
class Column:
    name: str
    parse: f.Parser
    required: bool = False
    sql_type: SqlType = "text"
    default: object = ""  # stored when the field is empty (None for NULL)

    @property
    def canonical(self) -> str | None:
        """The regex of texts stored as written (see fields.Field), if the parser has one."""
        return self.parse.pattern if isinstance(self.parse, f.Field) else None


@dataclass(frozen=True)
class Reference:
    """A column holding another table's external key; stored as that row's id in ``fk``."""

    column: str
    table: str
    key: str
    fk: str
    label: str


@dataclass(frozen=True)
class Derived:
    """A stored column computed from parsed ones (e.g. the H3 cell from the coordinates)."""

    name: str
    sql_type: SqlType
    inputs: tuple[str, ...]  # the columns it is computed from
    compute: Callable[..., object]  # receives their parsed values (None when empty)


@dataclass(frozen=True)
class KindSpec:
    kind: str
    table: str
    key: str
    columns: tuple[Column, ...]
    references: tuple[Reference, ...] = ()
    derived: tuple[Derived, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()  # columns that must be both given or both empty

    @property
    def reference_columns(self) -> frozenset[str]:
        return frozenset(ref.column for ref in self.references)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    @property
    def staging_columns(self) -> list[tuple[str, SqlType]]:
        return [(c.name, c.sql_type) for c in self.columns] + [
            (d.name, d.sql_type) for d in self.derived
        ]


H3_RESOLUTION = 8


def _h3_cell(latitude: float | None, longitude: float | None) -> str:
    if latitude is None or longitude is None:
        return ""
    return str(h3.latlng_to_cell(latitude, longitude, H3_RESOLUTION))


_LAT = Column("latitude", f.coordinate(90), sql_type="double", default=None)
_LNG = Column("longitude", f.coordinate(180), sql_type="double", default=None)

TEAMS = KindSpec(
    kind="teams",
    table="network_team",
    key="external_id",
    columns=(
        Column("external_id", f.EXTERNAL_ID, required=True),
        Column("name", f.text(200), required=True),
        Column("email", f.EMAIL),
    ),
)

PRODUCTS = KindSpec(
    kind="products",
    table="network_product",
    key="code",
    columns=(
        Column("code", f.EXTERNAL_ID, required=True),
        Column("name", f.text(200), required=True),
        Column("kind", f.choice(ProductKind), required=True),
        Column("monthly_charge", f.AMOUNT, required=True, sql_type="bigint"),
    ),
)

NETWORK = KindSpec(
    kind="network",
    table="network_networkelement",
    key="external_id",
    columns=(
        Column("external_id", f.EXTERNAL_ID, required=True),
        Column("name", f.text(200), required=True),
        Column("kind", f.choice(ElementKind), required=True),
        Column("parent_external_id", f.EXTERNAL_ID, default=None),
        Column("state", f.choice(State, upper=True)),
        _LAT,
        _LNG,
    ),
    references=(
        Reference(
            "parent_external_id",
            "network_networkelement",
            "external_id",
            "parent_id",
            "parent element",
        ),
    ),
    pairs=(("latitude", "longitude"),),
)

CUSTOMERS = KindSpec(
    kind="customers",
    table="network_customer",
    key="external_id",
    columns=(
        Column("external_id", f.EXTERNAL_ID, required=True),
        Column("name", f.text(200), required=True),
        Column("preferred_name", f.text(100)),
        Column("segment", f.choice(Segment), required=True),
        Column("language", f.LANGUAGE, default="en"),
        Column("email", f.EMAIL),
        Column("mobile", f.MOBILE_PHONE),
        Column("phone", f.ANY_PHONE),
        Column("push_token", f.text(255)),
        Column("channel_order", f.channel_order, default="email;sms;push;voice"),
        Column("consent_email", f.BOOLEAN, sql_type="boolean", default=True),
        Column("consent_sms", f.BOOLEAN, sql_type="boolean", default=True),
        Column("consent_push", f.BOOLEAN, sql_type="boolean", default=True),
        Column("consent_voice", f.BOOLEAN, sql_type="boolean", default=True),
        Column("time_zone", f.time_zone, default="Australia/Sydney"),
        Column("quiet_hours_start", f.CLOCK_TIME, sql_type="time", default=None),
        Column("quiet_hours_end", f.CLOCK_TIME, sql_type="time", default=None),
        Column("priority_assistance", f.BOOLEAN, sql_type="boolean", default=False),
        Column("accessibility_needs", f.TOKENS),
        Column("team_external_id", f.EXTERNAL_ID, default=None),
        Column("is_former", f.BOOLEAN, sql_type="boolean", default=False),
        Column("payment_reference", f.text(64)),
    ),
    references=(Reference("team_external_id", "network_team", "external_id", "team_id", "team"),),
    pairs=(("quiet_hours_start", "quiet_hours_end"),),
)

SERVICE_COLUMNS = (
    Column("external_id", f.EXTERNAL_ID, required=True),
    Column("customer_external_id", f.EXTERNAL_ID, required=True),
    Column("product_code", f.EXTERNAL_ID, required=True),
    Column("monthly_charge", f.AMOUNT, required=True, sql_type="bigint"),
    Column("address", f.text(300)),
    Column("postcode", f.POSTCODE, required=True),
    Column("locality", f.text(100), required=True),
    Column("state", f.choice(State, upper=True), required=True),
    Column("remoteness", f.choice(Remoteness), default=Remoteness.MAJOR_CITY.value),
    _LAT,
    _LNG,
    Column("element_external_id", f.EXTERNAL_ID, default=None),
    Column("sla_tier", f.choice(SlaTier), default=SlaTier.STANDARD.value),
    Column("is_active", f.BOOLEAN, sql_type="boolean", default=True),
)

SERVICES = KindSpec(
    kind="services",
    table="network_service",
    key="external_id",
    columns=SERVICE_COLUMNS,
    references=(
        Reference(
            "customer_external_id", "network_customer", "external_id", "customer_id", "customer"
        ),
        Reference("product_code", "network_product", "code", "product_id", "product"),
        Reference(
            "element_external_id",
            "network_networkelement",
            "external_id",
            "element_id",
            "network element",
        ),
    ),
    derived=(Derived("h3_cell", "text", ("latitude", "longitude"), _h3_cell),),
    pairs=(("latitude", "longitude"),),
)

KINDS: dict[str, KindSpec] = {
    spec.kind: spec for spec in (TEAMS, PRODUCTS, NETWORK, CUSTOMERS, SERVICES)
}

# A file column's name differs from the table column where the file speaks in currency.
TARGET_NAMES = {"monthly_charge": "monthly_charge_cents"}

IMPORT_ORDER = ("teams", "products", "network", "customers", "services")
