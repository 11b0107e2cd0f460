"""Misconfigured components are reported by `amends check`, with ids."""

from __future__ import annotations

from typing import Any

from amends.statuspage.checks import check_components


def test_unknown_component_kinds_and_states_are_errors(settings: Any) -> None:
    assert check_components() == []
    settings.AMENDS_STATUSPAGE_COMPONENT_KINDS = ["mobile", "pigeon"]
    settings.AMENDS_STATUSPAGE_COMPONENT_STATES = ["NSW", "XX"]
    assert [e.id for e in check_components()] == ["statuspage.E001", "statuspage.E002"]
    assert "pigeon" in check_components()[0].msg
