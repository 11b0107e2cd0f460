"""`amends demo` tells the whole story end to end on a small operator."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

from amends.outages.models import Impact, Outage


@pytest.mark.django_db
def test_demo_builds_the_operator_staff_and_outage(tmp_path: Path) -> None:
    out = StringIO()
    with override_settings(DATA_DIR=tmp_path):
        call_command("demo", customers=600, no_serve=True, stdout=out)
    text = out.getvalue()
    assert "customers       600 rows: 600 created" in text
    assert (tmp_path / "demo" / "services.csv").exists()

    outage = Outage.objects.get()
    assert outage.reference in text and "still out" in text
    closed = Impact.objects.filter(outage=outage, window_end__isnull=False).count()
    still_open = Impact.objects.filter(outage=outage, window_end__isnull=True).count()
    assert closed > 0 and still_open > 0  # the exchange is back, the region is not
    assert outage.etr is not None and outage.status == "investigating"

    from amends.comms.models import Delivery, Notice

    notices = list(Notice.objects.order_by("id"))
    assert [n.kind for n in notices] == ["acknowledge", "update", "etr_changed", "restored"]
    for notice in notices:  # mass sends were approved by a second person
        if notice.recipients > settings.AMENDS_APPROVAL_THRESHOLD:
            assert notice.approved_by is not None and notice.approved_by.username == "approver"
    assert Delivery.objects.filter(status="sent").count() > 0
    assert any((tmp_path / "outbox" / "email").glob("*.eml"))

    password = next(
        line.split()[1] for line in text.splitlines() if line.strip().startswith("commander ")
    )
    client = Client()
    assert client.login(username="commander", password=password)
    page = client.get(f"/outages/{outage.reference}/").content.decode()
    assert outage.title in page
    home = client.get("/").content.decode()
    assert '<dd id="count-outages">1</dd>' in home
