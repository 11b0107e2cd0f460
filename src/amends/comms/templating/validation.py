"""Refuse, at save time, a template that would fail when 100,000 messages are going out.

Two passes. Reading the source finds syntax errors and misspelt variables on every line,
including branches the sample would not take. Rendering it for the sample recipient of each
shipped language, and again with the values that are often missing in real life (no
restoration time yet, no message of the notice's own), finds the rest.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes

from amends.comms.templating.environment import HTML_ENVIRONMENT, TEXT_ENVIRONMENT
from amends.comms.templating.rendering import (
    PARTS,
    REQUIRED_PARTS,
    Problem,
    TemplateProblem,
    render_part,
)
from amends.comms.templating.variables import (
    CREDIT_KIND,
    LANGUAGES,
    OPEN_OUTAGE_KINDS,
    VARIABLES,
    sample_context,
)

_ROOTS = {name.split(".")[0] for name in VARIABLES}
_NAMESPACES = {name.split(".")[0] for name in VARIABLES if "." in name}


def validate(source_parts: Mapping[str, str], *, kind: str, channel: str) -> list[Problem]:
    """Everything wrong with a template's parts (``subject``, ``text``, ``html``), in the
    order an editor would fix them; an empty list means it may be saved."""
    if channel not in PARTS:
        return [Problem("text", None, f"there is no channel called {channel!r}")]
    problems = [
        Problem(part, None, f"{channel} messages have no {part}; leave it empty")
        for part, source in source_parts.items()
        if source.strip() and part not in PARTS[channel]
    ]
    problems += [
        Problem(part, None, "this part is required")
        for part in REQUIRED_PARTS[channel]
        if not source_parts.get(part, "").strip()
    ]
    for part in PARTS[channel]:
        source = source_parts.get(part, "")
        if source.strip():
            problems += _part_problems(part, source, kind=kind, channel=channel)
    return problems


def _part_problems(part: str, source: str, *, kind: str, channel: str) -> list[Problem]:
    environment = HTML_ENVIRONMENT if part == "html" else TEXT_ENVIRONMENT
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as error:
        return [Problem(part, error.lineno, error.message or str(error))]
    try:
        unknown = _unknown_variables(part, tree)
    except TemplateSyntaxError as error:  # e.g. an unknown filter, found while compiling
        return [Problem(part, error.lineno, error.message or str(error))]
    if unknown:
        return unknown  # rendering would only report the first of them again
    problems: list[Problem] = []
    seen: set[tuple[int | None, str]] = set()  # each failure once, in its first situation
    for situation, context in _samples(kind):
        try:
            render_part(
                part,
                source,
                channel=channel,
                language=context["language"],
                context=context,
                origin="template",
            )
        except TemplateProblem as error:
            if (error.line, error.message) not in seen:
                seen.add((error.line, error.message))
                message = f"{situation}: {error.message}" if situation else error.message
                problems.append(Problem(part, error.line, message))
    return problems


def _samples(kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The sample recipient in each shipped language, then the same recipient with what is
    often missing: each with the words that say which situation failed ("" for the plain
    sample)."""
    for language in LANGUAGES:
        context = sample_context(language, kind=kind)
        yield "", context
        if kind in OPEN_OUTAGE_KINDS:
            yield "while the restoration time is unknown", _with(context, "outage", etr=None)
        yield "when no next update is promised", _with(context, "outage", next_update_by=None)
        yield "when the notice has no message of its own", {**context, "message": ""}
        if kind == CREDIT_KIND:
            yield "for a refund", _with(context, "credit", method="refund")


def _with(context: dict[str, Any], key: str, **values: Any) -> dict[str, Any]:
    return {**context, key: {**context[key], **values}}


def _unknown_variables(part: str, tree: nodes.Template) -> list[Problem]:
    """Names the template reads but neither sets itself nor finds in VARIABLES, each once,
    at the first line it appears, with the nearest real name when there is one."""
    undeclared = meta.find_undeclared_variables(tree)
    seen: set[str] = set()
    problems: list[Problem] = []

    def report(name: str, line: int, known: set[str] | dict[str, str]) -> None:
        if name not in seen:
            seen.add(name)
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem(part, line, f"unknown variable '{name}'{hint}"))

    for name_node in tree.find_all(nodes.Name):
        name = name_node.name
        if name_node.ctx == "load" and name in undeclared and name not in _ROOTS:
            report(name, name_node.lineno, _ROOTS)
    for attribute in tree.find_all(nodes.Getattr):
        owner = attribute.node
        if isinstance(owner, nodes.Name) and owner.name in undeclared & _NAMESPACES:
            path = f"{owner.name}.{attribute.attr}"
            if path not in VARIABLES:
                report(path, attribute.lineno, VARIABLES)
    return sorted(problems, key=lambda problem: problem.line or 0)
