"""API tokens: scopes are checked when a token is made, and each area has its own pair."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from amends.core.errors import AmendsError
from amends.core.models import ApiToken
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.core.tokens import authenticate, token_create

pytestmark = pytest.mark.django_db


def test_remediation_has_its_own_scopes() -> None:
    staff_user_set(actor="test", username="ana", role=Role.REMEDIATION_ANALYST, password="x" * 12)
    token, plain = token_create(
        actor="test", name="billing", username="ana", scopes=["remedy:write", "remedy:read"]
    )
    assert token.scopes == "remedy:read remedy:write"
    found = authenticate(plain)
    assert found is not None and found.scope_set == frozenset({"remedy:read", "remedy:write"})


def test_an_unknown_scope_is_refused_and_nothing_is_made() -> None:
    staff_user_set(actor="test", username="ana", role=Role.REMEDIATION_ANALYST, password="x" * 12)
    with pytest.raises(AmendsError, match="remedy:read, remedy:write") as refused:
        token_create(actor="test", name="typo", username="ana", scopes=["remedy:pay"])
    assert refused.value.field == "scopes"
    assert not ApiToken.objects.exists()


def test_the_command_names_every_scope(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("token", "create", "--help")
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "outages:read, outages:write, remedy:read, remedy:write, intake" in help_text
