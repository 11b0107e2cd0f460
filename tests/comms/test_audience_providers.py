"""Audiences another app chooses: a registered provider's condition drives the counts, the
preview and the outbox rows; a notice naming no provider is refused at its audience field and
nothing is written."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from amends.comms import audience_providers
from amends.comms.audience import count_audience
from amends.comms.models import Audience, Delivery, Notice, NoticeStatus
from amends.comms.services import notice_create, notice_submit
from amends.core.errors import AmendsError
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from tests.factories import build_operator

pytestmark = pytest.mark.django_db


def business_customers(notice: Notice) -> audience_providers.Condition:
    """A test provider: the customers not in the consumer segment."""
    return "c.segment <> %s", ["consumer"]


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The registry with the test provider (and the apps' own) for one test only."""
    monkeypatch.setattr(audience_providers, "_PROVIDERS", dict(audience_providers._PROVIDERS))
    audience_providers.register("test.business", business_customers)
    yield


@pytest.fixture
def outage() -> Outage:
    build_operator()
    return outage_declare(
        actor="nmc", title="Fault", scope_items=[ScopeSpec(kind="state", state="NSW")]
    ).outage


def test_a_provided_audience_is_counted_and_released_by_its_providers_condition(
    providers: None, cleo: User, outage: Outage
) -> None:
    notice = notice_create(
        actor=cleo,
        kind="custom",
        audience=Audience.PROVIDED,
        provider="test.business",
        outage=outage,
    )
    assert (notice.audience_provider, notice.audience_segment) == ("test.business", "")
    business = set(
        Customer.objects.exclude(segment="consumer").values_list("external_id", flat=True)
    )
    assert business == {"C2", "C5", "C6"}  # not all of them in the NSW outage: not needed
    assert count_audience(notice).customers == notice.recipients == 3
    assert notice.audience_text == "Chosen by test.business"  # registered without words
    notice = notice_submit(actor=cleo, notice=notice)
    assert notice.status == NoticeStatus.SENDING and notice.recipients == 3
    sent_to = Delivery.objects.filter(notice=notice).values_list("customer__external_id", flat=True)
    assert set(sent_to) == business


@pytest.mark.parametrize(
    ("audience", "name", "field", "message"),
    [
        # The console's composer and the API name no provider: choose another audience.
        (Audience.PROVIDED, "", "audience", "another app chooses this audience"),
        (Audience.PROVIDED, "nobody.knows", "provider", "no app provides an audience called"),
        (Audience.ALL_AFFECTED, "test.business", "provider", "only a provided audience"),
    ],
)
def test_a_notice_naming_no_provider_or_one_it_cannot_use_is_refused(
    providers: None, cleo: User, outage: Outage, audience: str, name: str, field: str, message: str
) -> None:
    with pytest.raises(AmendsError, match=message) as refused:
        notice_create(actor=cleo, kind="custom", audience=audience, provider=name, outage=outage)
    assert refused.value.field == field
    assert not Notice.objects.exists()


def test_the_composer_does_not_offer_a_provided_audience(cleo: User, outage: Outage) -> None:
    client = Client()
    client.force_login(cleo)
    form = client.get(reverse("comms:new")).content.decode()
    assert 'value="all_affected"' in form and 'value="provided"' not in form
    response = client.post(
        reverse("comms:new"),
        {"outage": outage.reference, "kind": "custom", "audience": "provided", "segment": ""},
    )
    assert response.status_code == 400 and not Notice.objects.exists()
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("name", ["", "x" * 41])
def test_a_provider_name_must_fit_the_notice(providers: None, name: str) -> None:
    with pytest.raises(ValueError, match="1 to 40 characters"):
        audience_providers.register(name, business_customers)


def test_the_migration_moves_a_provided_audiences_provider_to_its_own_field(
    outage: Outage,
) -> None:
    migration = importlib.import_module("amends.comms.migrations.0006_notice_audience_provider")
    provided = Notice.objects.create(
        kind="credit_applied",
        audience=Audience.PROVIDED,
        audience_segment="remedy.credit",  # where it was named before
        outage=outage,
    )
    segment = Notice.objects.create(
        kind="custom", audience=Audience.SEGMENT, audience_segment="small_business", outage=outage
    )
    migration.provider_to_own_field(django_apps, None)
    provided.refresh_from_db()
    assert (provided.audience_provider, provided.audience_segment) == ("remedy.credit", "")
    assert Notice.objects.get(pk=segment.pk).audience_segment == "small_business"
    migration.provider_back_to_segment(django_apps, None)
    provided.refresh_from_db()
    assert (provided.audience_provider, provided.audience_segment) == ("", "remedy.credit")
