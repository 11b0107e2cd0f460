"""What ``amends`` commands' parsers share: values that start with '-' (scope exclusions), and
an "examples:" section in ``--help`` that tests/core/test_help_examples.py runs line by line."""

from __future__ import annotations

import re
from argparse import ArgumentParser, RawDescriptionHelpFormatter
from collections.abc import Sequence
from typing import Any

from django.core.management.base import CommandParser, DjangoHelpFormatter

EXAMPLES_HEADING = "examples:"

# An exclusion like ``-postcode:2600``: argparse would take it for an unknown option.
_DASH_VALUE = re.compile(r"^-[A-Za-z_]+:")


class DashValueParser(CommandParser):
    """A parser whose options taking one value also take ``-KIND:VALUE`` (``--scope
    -postcode:2600``), as ``--scope=-postcode:2600`` already does: argparse alone refuses a
    value that starts with '-' ("expected one argument"), and no option of ours has a colon."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        return super().parse_known_args(
            None if args is None else self._join_dash_values(list(args)), namespace
        )

    def _join_dash_values(self, args: list[str]) -> list[str]:
        joined: list[str] = []
        for arg in args:
            previous = joined[-1] if joined else ""
            action = self._option_string_actions.get(previous)
            if action is not None and action.nargs is None and _DASH_VALUE.match(arg):
                joined[-1] = f"{previous}={arg}"  # an option taking one value, then the value
                continue
            joined.append(arg)
        return joined


class ExamplesFormatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    """Django's help layout, with the examples epilog kept line by line."""


def add_examples(parser: ArgumentParser, *lines: str) -> None:
    """End ``parser``'s ``--help`` with these command lines, each run by a test as written."""
    parser.formatter_class = ExamplesFormatter
    parser.epilog = "\n".join([EXAMPLES_HEADING, *(f"  {line}" for line in lines)])


def help_examples(help_text: str) -> list[str]:
    """The command lines under "examples:" in a ``--help`` text (what the test runs)."""
    _, found, tail = help_text.partition(f"\n{EXAMPLES_HEADING}\n")
    if not found:
        return []
    return [line.strip() for line in tail.splitlines() if line.strip().startswith("amends ")]
