"""Turn one kind × channel × language template into the parts a channel sends.

An operator's ``MessageTemplate`` wins; otherwise the shipped default in the recipient's
language, else in English. Every failure (a typo, a forbidden attribute, a None printed)
becomes a ``TemplateProblem`` naming the part and line, never a half-rendered message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateSyntaxError

from amends.comms.templating.environment import (
    TEMPLATES_DIR,
    compile_source,
    plain_message,
    source_line,
)
from amends.comms.templating.variables import LANGUAGES

if TYPE_CHECKING:
    from amends.comms.models import MessageTemplate

# The parts each channel sends; MessageTemplate stores them as subject, body (text), html.
PARTS: dict[str, tuple[str, ...]] = {
    "email": ("subject", "text", "html"),
    "sms": ("text",),
    "push": ("subject", "text"),  # subject is the notification's title
    "voice": ("text",),  # the script text-to-speech reads
    "social": ("text",),
    "webhook": ("text",),  # a JSON document
}
REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    channel: ("subject", "text") if channel == "email" else ("text",) for channel in PARTS
}
FALLBACK_LANGUAGE = LANGUAGES[0]

_NAME = re.compile(r"[a-z_]{1,32}")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_BLANK_RUNS = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Rendered:
    subject: str  # email subject or push title; "" for other channels
    text: str  # email text part, SMS, push body, voice script, social post, webhook JSON
    html: str  # email HTML part; "" for other channels
    language: str  # the template's language (the recipient's, or the English fallback)


@dataclass(frozen=True)
class Problem:
    part: str  # "subject", "text" or "html"
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.part}, line {self.line}" if self.line else self.part
        return f"{where}: {self.message}"


class TemplateProblem(Exception):
    """A template that cannot produce this message: which part, which line, what is wrong."""

    def __init__(self, problem: Problem, *, template: str) -> None:
        super().__init__(f"{template}: {problem}")
        self.problem = problem
        self.template = template  # e.g. "default en/acknowledge/sms"

    @property
    def part(self) -> str:
        return self.problem.part

    @property
    def line(self) -> int | None:
        return self.problem.line

    @property
    def message(self) -> str:
        return self.problem.message


class MissingTemplate(LookupError):
    """No template for this kind on this channel in any language (e.g. stakeholder by SMS):
    the dispatcher should use another channel rather than retry."""


def candidate_languages(tag: str) -> tuple[str, ...]:
    """Languages to try for a BCP 47 tag: its primary subtag ("zh-Hans-AU" → "zh"), then
    English. Anything that is not a tag goes straight to English."""
    if not _LANGUAGE_TAG.fullmatch(tag):
        return (FALLBACK_LANGUAGE,)
    return tuple(dict.fromkeys((tag.replace("_", "-").split("-")[0].lower(), FALLBACK_LANGUAGE)))


@lru_cache(maxsize=1024)
def _shipped(language: str, kind: str, channel: str) -> tuple[tuple[str, str], ...] | None:
    folder = TEMPLATES_DIR / language / kind
    if not (folder / f"{channel}.text.j2").is_file():
        return None
    paths = [(part, folder / f"{channel}.{part}.j2") for part in PARTS[channel]]
    return tuple((part, path.read_text("utf-8") if path.is_file() else "") for part, path in paths)


def default_sources(kind: str, channel: str, language: str) -> tuple[str, dict[str, str]]:
    """The shipped wording for a kind on a channel, and the language it is in: the
    recipient's if we ship it, else English. What the console shows as a starting point."""
    if channel not in PARTS or not _NAME.fullmatch(kind):
        raise MissingTemplate(f"no template for {kind!r} notices by {channel!r}")
    for candidate in candidate_languages(language):
        shipped = _shipped(candidate, kind, channel)
        if shipped is not None:
            return candidate, dict(shipped)
    raise MissingTemplate(f"no template for {kind} notices by {channel}")


def render_part(
    part: str,
    source: str,
    *,
    channel: str,
    language: str,
    context: Mapping[str, Any],
    origin: str,
) -> str:
    """One part, rendered and tidied for its channel; raises TemplateProblem."""
    try:
        template = compile_source(source, html=part == "html")
    except TemplateSyntaxError as error:
        problem = Problem(part, error.lineno, error.message or str(error))
        raise TemplateProblem(problem, template=origin) from error
    try:
        output = template.render({**context, "language": language})
    except Exception as error:  # anything a template does wrong is the template's problem
        problem = Problem(part, source_line(error.__traceback__), plain_message(str(error)))
        raise TemplateProblem(problem, template=origin) from error
    if part == "subject":  # one line: a name with a newline must not reach a mail header
        return " ".join(output.split())
    if part == "html":
        return output.strip()
    text = "\n".join(line.rstrip() for line in output.splitlines())
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    if channel == "webhook":
        try:
            json.loads(text)
        except ValueError as error:  # its position is in the output, not in the template
            problem = Problem(part, None, f"the document it makes is not valid JSON: {error}")
            raise TemplateProblem(problem, template=origin) from error
    return text.strip()


@dataclass(frozen=True)
class _Plan:
    """What rendering one kind × channel × language takes: the language the wording is in,
    where it comes from (for error messages) and the non-empty parts' sources."""

    language: str
    origin: str
    parts: tuple[tuple[str, str], ...]


def _plan(language: str, origin: str, channel: str, sources: Mapping[str, str]) -> _Plan:
    parts = tuple((part, sources[part]) for part in PARTS[channel] if sources.get(part, "").strip())
    return _Plan(language, origin, parts)


@lru_cache(maxsize=1024)
def _default_plan(kind: str, channel: str, language: str) -> _Plan:
    """The shipped wording's plan, worked out once per process (a mass send renders the same
    few combinations hundreds of thousands of times)."""
    used, sources = default_sources(kind, channel, language)
    return _plan(used, f"default {used}/{kind}/{channel}", channel, sources)


def template_language(
    kind: str, channel: str, language: str, override: MessageTemplate | None = None
) -> str:
    """The language a message will be worded in: the operator's template's own, else the
    shipped template's (the recipient's, or English when we ship none in theirs)."""
    if override is not None:
        return override.language
    try:
        return _default_plan(kind, channel, language).language
    except MissingTemplate:
        return FALLBACK_LANGUAGE


def render(
    kind: str,
    channel: str,
    language: str,
    context: Mapping[str, Any],
    *,
    override: MessageTemplate | None = None,
) -> Rendered:
    """The message for one recipient. ``context`` is shaped like ``sample_context()`` (with
    the recipient's ``time_zone``); ``language`` is the recipient's tag, ignored when an
    ``override`` is given (it has its own). Raises MissingTemplate or TemplateProblem."""
    if channel not in PARTS:
        raise MissingTemplate(f"no channel called {channel!r}")
    if override is not None:
        sources = {"subject": override.subject, "text": override.body, "html": override.html}
        plan = _plan(override.language, f"template {override}", channel, sources)
    else:
        plan = _default_plan(kind, channel, language)
    parts = dict.fromkeys(("subject", "text", "html"), "")
    for part, source in plan.parts:
        parts[part] = render_part(
            part,
            source,
            channel=channel,
            language=plan.language,
            context=context,
            origin=plan.origin,
        )
    return Rendered(
        subject=parts["subject"], text=parts["text"], html=parts["html"], language=plan.language
    )
