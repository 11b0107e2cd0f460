"""The page a credit SMS links to (``/c/<token>``): one customer's own credit, explained, with
no login; any other token is a 404."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from amends.network.models import Customer
from amends.remedy.credit_links import TOKEN_LENGTH, credit_token, credit_url, payout_for
from amends.remedy.models import Payout, PayoutStatus
from tests.remedy.payments_support import approved
from tests.remedy.test_credit_notices import pay_credits

pytestmark = pytest.mark.django_db


def test_a_token_names_one_payout_and_cannot_be_guessed_or_altered() -> None:
    tokens = {credit_token(pk) for pk in range(1, 2001)}
    assert len(tokens) == 2000
    assert all(len(t) == TOKEN_LENGTH and t.isalnum() and t.islower() for t in tokens)
    assert all(payout_for(credit_token(pk)) == pk for pk in (1, 42, 2**40))
    token = credit_token(42)
    assert "42" not in token  # no id to count or change
    for i in range(TOKEN_LENGTH):  # any one character changed: not a token of ours
        other = "a" if token[i] != "a" else "b"
        assert payout_for(token[:i] + other + token[i + 1 :]) is None
    assert payout_for("") is None and payout_for("x" * TOKEN_LENGTH) is None
    assert payout_for("42") is None and payout_for(token + "a") is None


def path_of(url: str) -> str:
    assert url.startswith(f"{settings.SITE_URL}/c/")
    return url.removeprefix(settings.SITE_URL)


def test_each_customer_sees_only_their_own_credit_without_logging_in(tmp_path: Path) -> None:
    setup = approved()
    pay_credits(setup, tmp_path, reject="C6")
    Customer.objects.filter(external_id="C2").update(language="zh-Hans-AU")
    client = Client()
    mine = client.get(path_of(credit_url(setup.payout("C1").pk)))
    assert mine.status_code == 200 and mine["Cache-Control"] == "no-store"
    assert mine["Referrer-Policy"] == "no-referrer" and mine["X-Robots-Tag"] == "noindex"
    page = mine.content.decode()
    assert '<h1 lang="en">Your credit, explained</h1>' in page
    assert '<strong class="ref-big" id="credit-amount">$2.39</strong>' in page
    assert "<li>Home Internet (S1): 14 h 05 min × $89.00/month ÷ 730 h = $1.72</li>" in page
    assert "<li>total $2.39</li>" in page
    assert "$21.73" not in page  # C2's amount
    assert "Customer C1" not in page and ">C1<" not in page  # no name, no account id
    assert setup.outage.reference in page and "on your next bill" in page
    theirs = client.get(path_of(credit_url(setup.payout("C2").pk))).content.decode()
    assert '<h1 lang="zh">您的补偿说明</h1>' in theirs  # their language; the lines in English
    assert "$21.73" in theirs and "$2.39" not in theirs


def test_anything_but_a_paid_credits_token_is_a_404(tmp_path: Path) -> None:
    setup = approved()
    pay_credits(setup, tmp_path, reject="C6")
    rejected = setup.payout("C6")
    assert rejected.status == PayoutStatus.REJECTED
    client = Client()
    good = credit_token(setup.payout("C1").pk)
    highest = Payout.objects.order_by("-pk").values_list("pk", flat=True)[0]
    for token in (
        "nope",
        str(setup.payout("C1").pk),  # a raw id
        good[:-1] + ("a" if good[-1] != "a" else "b"),  # altered
        credit_token(rejected.pk),  # not paid
        credit_token(highest + 1),  # no such payout
    ):
        response = client.get(f"/c/{token}")
        assert response.status_code == 404, token
        assert "$" not in response.content.decode()
