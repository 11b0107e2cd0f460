"""A publish root per test, a small operator, and outages with long public texts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_post_update, outage_set_etr
from tests.factories import Operator, build_operator

WORDS = (
    "fibre cable exchange crews splicing bypass conduit repair tower power generator battery "
    "suburb street council works restore technicians network traffic routing core backup site "
    "flooding access road equipment replacement testing coverage mobile broadband customers "
    "tonight morning afternoon estimate progress weather safety hazard permit contractor"
).split()

LONG = (
    "Engineers have traced the fault to a damaged fibre cable between two exchanges after "
    "civil works cut through a conduit. Crews are on site splicing a temporary bypass while "
    "the permanent repair is planned; some customers may see services return intermittently "
    "before the work is finished, and mobile coverage may drop in nearby streets while the "
    "cable is tested. We will post again by the time shown, sooner if anything changes. "
)


@pytest.fixture
def site_root(tmp_path: Path, settings: Any) -> Iterator[Path]:
    root = tmp_path / "statuspage"
    settings.AMENDS_STATUSPAGE_DIR = root
    settings.AMENDS_STATUSPAGE_URL = "https://status.example.net/status/"
    yield root


@pytest.fixture
def operator(db: None) -> Operator:
    return build_operator()


SCOPES = [
    ScopeSpec(kind="postcode", postcode="2000"),
    ScopeSpec(kind="postcode", postcode="2650"),
    ScopeSpec(kind="postcode", postcode="3000"),
    ScopeSpec(kind="state", state="NSW"),
    ScopeSpec(kind="locality", locality="Wagga Wagga", state="NSW"),
]


def varied_text(seed: int, words: int = 400) -> str:
    """Prose-like text that does not repeat (repeated text would flatter the gzip budget)."""
    rng = random.Random(seed)
    sentences, sentence = [], []
    for _ in range(words):
        sentence.append(rng.choice(WORDS))
        if len(sentence) > rng.randint(8, 18):
            sentences.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    return LONG + " ".join(sentences)


def declare_open(count: int, *, long_texts: bool = True) -> list[Outage]:
    """``count`` open outages, each with a long summary, cause, ETR and three long updates."""
    now = timezone.now()
    outages = []
    for i in range(count):
        text = varied_text(i) if long_texts else "Short."
        outage = outage_declare(
            actor="commander-xq7",
            title=f"Fibre cut number {i + 1} affecting several suburbs and regional towns",
            scope_items=[SCOPES[i % len(SCOPES)]],
            summary=text,
            cause_public=text,
            cause_internal=f"INTERNAL-CAUSE-{i} vendor ticket 99887766",
            started_at=now - timedelta(hours=i + 1),
        ).outage
        outage_set_etr(actor="commander-xq7", outage=outage, etr=now + timedelta(hours=4))
        for n in range(3):
            outage_post_update(
                actor="commander-xq7",
                outage=outage,
                message=f"Update {n + 1}. {varied_text(100 * i + n) if long_texts else text}",
            )
        outages.append(outage)
    return outages
