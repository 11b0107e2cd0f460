"""Who is where: customers, their services, the products they buy and the network tree.

External ids are the operator's own keys (from its BSS/OSS); imports upsert by them. On the big
tables they are unique through a UniqueConstraint rather than ``unique=True``, which on
PostgreSQL would add a second, LIKE-pattern index that every import maintains for nothing.

The links from the big tables (a customer's team; a service's customer, product and element)
have no FOREIGN KEY constraint in the database (``db_constraint=False``). A constraint checks
each inserted row with its own trigger query at commit: 13–30 s for a million services, more
than the rest of the import. The importer checks every reference of the whole file in one
anti-join instead and holds the referenced tables against writers until it commits
(``importer.staging.Dialect.lock_for_merge``); only it and the admin set these links. Deleting
still refuses (``on_delete=PROTECT`` is enforced by Django, not the database), so delete
customers, products and elements through the ORM, never with raw SQL.

On PostgreSQL a service's external id, postcode, state, locality and H3 cell compare byte by
byte (collation "C", migration 0004): they are looked up by equality, and their indexes, built
after a bulk import, take a quarter to a third less time to build so.
"""

from __future__ import annotations

from django.db import models


class State(models.TextChoices):
    NSW = "NSW", "New South Wales"
    VIC = "VIC", "Victoria"
    QLD = "QLD", "Queensland"
    WA = "WA", "Western Australia"
    SA = "SA", "South Australia"
    TAS = "TAS", "Tasmania"
    ACT = "ACT", "Australian Capital Territory"
    NT = "NT", "Northern Territory"


class Remoteness(models.TextChoices):
    """Coarse ABS remoteness, as the ACMA outage rules distinguish regional and remote areas."""

    MAJOR_CITY = "major_city", "Major city"
    REGIONAL = "regional", "Regional"
    REMOTE = "remote", "Remote"


class Team(models.Model):
    """A customer-care team; every customer belongs to one, and their contacts route there."""

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return self.name


class ProductKind(models.TextChoices):
    MOBILE = "mobile", "Mobile"
    FIXED_BROADBAND = "fixed_broadband", "Fixed broadband"
    VOICE = "voice", "Home phone"
    TV = "tv", "TV"
    ELECTRICITY = "electricity", "Electricity"
    SAAS = "saas", "Online service"


class Product(models.Model):
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=ProductKind.choices)
    monthly_charge_cents = models.BigIntegerField(help_text="List price in cents per month.")

    def __str__(self) -> str:
        return self.name


class ElementKind(models.TextChoices):
    CORE = "core", "Core"
    REGION = "region", "Region"
    EXCHANGE = "exchange", "Exchange / site"
    NODE = "node", "Node"
    CELL = "cell", "Cell"
    PORT = "port", "Port"


class NetworkElement(models.Model):
    """A node of the network tree.

    ``path`` is the materialised path of external ids from the root, each followed by ``/``
    (``/CORE-1/NSW-R1/EX-2000/``), so "everything under X" is the range
    ``path >= X.path AND path < X.path[:-1] + '0'`` ('0' is the character after '/'), one
    indexed range scan on both databases. On PostgreSQL the column uses the "C" collation so
    that range compares bytes, as SQLite does.
    """

    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ElementKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=1024, editable=False)
    state = models.CharField(max_length=3, choices=State.choices, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["path"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1


class Segment(models.TextChoices):
    CONSUMER = "consumer", "Consumer"
    SMALL_BUSINESS = "small_business", "Small business"
    ENTERPRISE = "enterprise", "Enterprise"
    GOVERNMENT = "government", "Government"


class Customer(models.Model):
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    preferred_name = models.CharField(
        max_length=100, blank=True, help_text="How messages greet them (a first name)."
    )
    segment = models.CharField(max_length=16, choices=Segment.choices)
    language = models.CharField(max_length=16, default="en", help_text="BCP 47 language tag.")
    email = models.EmailField(blank=True)
    mobile = models.CharField(max_length=16, blank=True, help_text="E.164")
    phone = models.CharField(max_length=16, blank=True, help_text="Other number, E.164")
    push_token = models.CharField(max_length=255, blank=True)
    channel_order = models.CharField(
        max_length=64,
        default="email;sms;push;voice",
        help_text="Channels to try, in the customer's order of preference, separated by ';'.",
    )
    consent_email = models.BooleanField(default=True)
    consent_sms = models.BooleanField(default=True)
    consent_push = models.BooleanField(default=True)
    consent_voice = models.BooleanField(default=True)
    time_zone = models.CharField(max_length=40, default="Australia/Sydney")
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    priority_assistance = models.BooleanField(
        default=False, help_text="Registered for priority assistance (life-threatening condition)."
    )
    accessibility_needs = models.CharField(
        max_length=200, blank=True, help_text="';'-separated, e.g. large_print;tty"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, db_constraint=False
    )
    is_former = models.BooleanField(default=False, help_text="No longer a customer.")
    payment_reference = models.CharField(
        max_length=64, blank=True, help_text="Reference to refund details held by billing."
    )
    unsubscribed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When they asked (one click in a message) to stop the messages they can do "
        "without (apology, survey, custom); outage notices about their services still come.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="customer_external_id_unique")
        ]
        indexes = [
            models.Index(fields=["segment"]),
            models.Index(fields=["mobile"]),
            models.Index(fields=["email"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class SlaTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    BUSINESS = "business", "Business"
    ENTERPRISE = "enterprise", "Enterprise"


class Service(models.Model):
    external_id = models.CharField(max_length=64)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="services", db_constraint=False
    )
    # No index: a product matches a large share of services, so a scan serves it better.
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="services",
        db_index=False,
        db_constraint=False,
    )
    monthly_charge_cents = models.BigIntegerField()
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=4)
    locality = models.CharField(max_length=100)
    state = models.CharField(max_length=3, choices=State.choices)
    remoteness = models.CharField(
        max_length=16, choices=Remoteness.choices, default=Remoteness.MAJOR_CITY
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    h3_cell = models.CharField(max_length=16, blank=True, help_text="H3 cell (resolution 8).")
    element = models.ForeignKey(
        NetworkElement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="services",
        db_constraint=False,
    )
    sla_tier = models.CharField(max_length=16, choices=SlaTier.choices, default=SlaTier.STANDARD)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="service_external_id_unique")
        ]
        indexes = [
            models.Index(fields=["postcode"]),
            # A locality is asked for with its state and case-blind (UPPER(locality)), which no
            # index on the column serves: the state narrows it. Migration 0005 says more.
            models.Index(fields=["state"]),
            models.Index(fields=["h3_cell"]),
        ]

    def __str__(self) -> str:
        return self.external_id
