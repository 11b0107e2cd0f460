"""The area lookup by place (``/status/lookup?locality=…&state=…``) beside the one by postcode:
its sharded index files, case/space-insensitive answers straight from them (no database),
close matches for a place with no outage, and a 400 page for a malformed question."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from amends.network.models import Product
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_restore
from amends.statuspage import publish
from tests.factories import Operator, bulk_services
from tests.statuspage.conftest import declare_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def outages(site_root: Path, operator: Operator) -> tuple[Outage, Outage, Outage]:
    """Sydney (2000) still out, Wagga Wagga (2650) restored, Melbourne (3000) still out."""
    sydney, wagga, melbourne = declare_open(3, long_texts=False)
    outage_restore(actor="nmc", outage=wagga)
    assert publish.publish_site(trigger="test").status == "succeeded"
    return sydney, wagga, melbourne


def current(root: Path) -> Path:
    return root / os.readlink(root / "current")


def load(root: Path, path: str) -> Any:
    return json.loads((current(root) / path).read_bytes())


def page(client: Client, status: int = 200, **params: str) -> str:
    response = client.get("/status/lookup", params)
    assert response.status_code == status
    html = response.content.decode()
    assert "Traceback" not in html
    return html


def test_one_small_file_per_state_and_first_letter(
    site_root: Path, outages: tuple[Outage, ...]
) -> None:
    sydney, wagga, melbourne = outages
    files = sorted(
        str(p.relative_to(current(site_root) / "lookup/locality"))
        for p in (current(site_root) / "lookup/locality").rglob("*.json")
    )
    assert files == ["NSW/s.json", "NSW/w.json", "VIC/m.json"]
    shard = load(site_root, "lookup/locality/NSW/w.json")
    assert shard["state"] == "NSW" and list(shard["localities"]) == ["waggawagga"]
    assert shard["localities"]["waggawagga"] == {
        "name": "Wagga Wagga",
        "postcodes": ["2650"],
        "outages": [
            {
                "reference": wagga.reference,
                "still_affected": False,
                "services": ["mobile", "fixed_broadband"],
            }
        ],
    }
    facts = shard["outages"][wagga.reference]
    assert set(facts) == {"title", "status", "etr", "restored_at", "url"}
    assert facts["restored_at"] and facts["url"].endswith(f"/status/{wagga.reference}/")
    sydney_here = load(site_root, "lookup/locality/NSW/s.json")["localities"]["sydney"]
    assert sydney_here["outages"][0]["still_affected"] is True
    assert list(load(site_root, "lookup/locality/VIC/m.json")["outages"]) == [melbourne.reference]


def test_an_unchanged_shard_keeps_its_bytes_across_publishes(
    site_root: Path, outages: tuple[Outage, ...]
) -> None:
    before = publish.read_manifest(current(site_root))
    declare_open(1, long_texts=False)  # another outage in Sydney (2000): only that shard moves
    publish.publish_site(trigger="test")
    after = publish.read_manifest(current(site_root))
    assert after["lookup/locality/NSW/w.json"][0] == before["lookup/locality/NSW/w.json"][0]
    assert after["lookup/locality/NSW/s.json"][0] != before["lookup/locality/NSW/s.json"][0]


@pytest.mark.parametrize(
    "typed", ["Wagga Wagga", "wagga wagga", "  WAGGA   WAGGA ", "WaggaWagga", "Wagga-Wagga"]
)
def test_locality_is_found_whatever_its_case_and_spaces(
    client: Client, outages: tuple[Outage, ...], typed: str
) -> None:
    _, wagga, _ = outages
    html = page(client, locality=typed, state="nsw")
    assert "Outages in Wagga Wagga NSW" in html and "Postcodes: 2650" in html
    assert wagga.reference in html and "Restored here" in html
    assert "No known outages" not in html
    assert '/status/subscribe?postcode=2650"' in html


def test_without_a_state_every_state_is_searched(
    client: Client, outages: tuple[Outage, ...]
) -> None:
    _, _, melbourne = outages
    html = page(client, locality="melbourne", state="")
    assert "Outages in Melbourne VIC" in html and melbourne.reference in html
    assert "Still affected here" in html
    assert "No known outages in Melbourne NSW." in page(client, locality="Melbourne", state="NSW")


def test_the_same_name_in_two_states_gets_two_answers(
    client: Client, site_root: Path, operator: Operator
) -> None:
    customer, product = operator.customers["C5"], Product.objects.get(code="NBN")
    bulk_services(1, customer=customer, product=product, postcode="2753", state="NSW", prefix="A")
    bulk_services(1, customer=customer, product=product, postcode="3121", state="VIC", prefix="B")
    outage = outage_declare(
        actor="nmc",
        title="Two places called Bulk",
        scope_items=[ScopeSpec(kind="postcode", postcode=p) for p in ("2753", "3121")],
    ).outage
    publish.publish_site(trigger="test")
    html = page(client, locality="bulk")
    assert "Outages in Bulk NSW" in html and "Outages in Bulk VIC" in html
    assert html.count(f">{outage.reference}<") == 2
    assert 'id="o1-' in html and 'id="o2-' in html  # ids stay unique on the page
    assert "subscribe?postcode=" not in html  # two postcodes: no single one to offer


def test_unknown_place_is_a_friendly_200_with_close_matches(
    client: Client, outages: tuple[Outage, ...]
) -> None:
    html = page(client, locality="Wagga Wagg", state="NSW")
    assert "No known outages in Wagga Wagg NSW." in html
    assert "Places with a similar name and a current or recent outage" in html
    assert 'href="lookup?locality=Wagga%20Wagga&amp;state=NSW">Wagga Wagga NSW</a>' in html
    assert "Sydney" not in html.split("</form>")[1]  # only similar names are suggested
    html = page(client, locality="Zanzibar Heights")
    assert "No known outages in Zanzibar Heights." in html and "similar name" not in html


def test_a_postcode_wins_over_a_place_given_with_it(
    client: Client, outages: tuple[Outage, ...]
) -> None:
    html = page(client, postcode="2000", locality="Melbourne", state="")
    assert "Outages in 2000" in html and "Melbourne VIC" not in html


@pytest.mark.parametrize(
    ("params", "message", "field"),
    [
        ({"locality": "Sydney", "state": "XX"}, "Choose a state or territory.", "state"),
        ({"locality": "S" * 61}, "at most 60 characters", "locality"),
        ({"locality": "<script>alert(1)</script>"}, "in letters", "locality"),
        ({"locality": "1234"}, "in letters", "locality"),
        ({"locality": "--"}, "in letters", "locality"),
        ({"postcode": "", "locality": "", "state": ""}, "or a suburb or town", "postcode"),
        ({"state": "NSW"}, "or a suburb or town", "postcode"),
    ],
)
def test_malformed_questions_get_a_400_page_naming_the_field(
    client: Client, outages: tuple[Outage, ...], params: dict[str, str], message: str, field: str
) -> None:
    html = page(client, 400, **params)
    assert message in html and "<script>" not in html
    described = f"{field}-error" if field == "state" else f"{field}-hint {field}-error"
    assert f'id="{field}-error"' in html
    assert f'aria-describedby="{described}" aria-invalid="true"' in html
    assert html.count('aria-invalid="true"') == 1
    assert "Outages in" not in html and "No known outages" not in html


def test_the_answer_speaks_the_language_and_links_the_same_question(
    client: Client, outages: tuple[Outage, ...]
) -> None:
    _, wagga, _ = outages
    html = page(client, locality="wagga wagga", state="NSW", lang="zh")
    assert '<html lang="zh">' in html and "Wagga Wagga NSW 的服务中断" in html
    assert f'href="zh/{wagga.reference}/"' in html
    assert 'href="lookup?locality=wagga+wagga&amp;state=NSW&amp;lang=vi"' in html
    assert '<input type="hidden" name="lang" value="zh">' in html


def test_answers_come_from_the_files_not_the_database(
    client: Client, outages: tuple[Outage, ...], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        assert "Outages in Sydney NSW" in page(client, locality="Sydney", state="NSW")
        assert "No known outages in Perth WA." in page(client, locality="Perth", state="WA")
        assert "Outages in 3000" in page(client, postcode="3000")


def test_the_published_pages_carry_the_place_field(
    site_root: Path, outages: tuple[Outage, ...]
) -> None:
    for prefix in ("", "zh/", "vi/"):
        html = (current(site_root) / prefix / "index.html").read_text()
        assert 'name="postcode"' in html and 'name="locality"' in html
        assert 'autocomplete="address-level2" maxlength="60"' in html
        assert '<select id="state" name="state">' in html and "<option>TAS</option>" in html
