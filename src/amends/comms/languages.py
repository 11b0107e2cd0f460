"""Who would read a notice in English although their language is another: what the preview
says before anything is sent, so nobody is counted as served in a language they are not."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from django.conf import settings

from amends.comms import content, templating
from amends.comms.models import Delivery, MessageTemplate, Notice
from amends.outages.queries import primary_language, untranslated

_FIELD_WORDS = {
    "title": "title",
    "public_summary": "summary",
    "cause_public": "cause",
    "resolution_summary": "restoration summary",
}


def language_name(tag: str) -> str:
    """The language's English name from CLDR ("ar" → "Arabic"), else the tag itself."""
    try:
        return Locale.parse(primary_language(tag)).get_display_name("en") or tag
    except (UnknownLocaleError, ValueError):
        return tag


@dataclass(frozen=True)
class Fallback:
    """Recipients in one language who get (part of) their message in English, and why."""

    language: str  # the primary language, e.g. "ar"
    recipients: int
    reason: str  # e.g. "no Arabic templates"
    whole_message: bool  # False: only the operator's own words (title, summary, cause)

    def __str__(self) -> str:
        one = self.recipients == 1
        who = "1 recipient" if one else f"{self.recipients:,} recipients"
        if self.whole_message:
            what = "gets English" if one else "get English"
        else:
            what = f"{'reads' if one else 'read'} the outage's own words in English"
        return f"{self.language}: {who} {what} ({self.reason})"


def english_fallbacks(notice: Notice, groups: Iterable[tuple[str, str, int]]) -> list[Fallback]:
    """``groups``: (channel, customers' language tag, recipients). For each language other
    than English, how many recipients get English templates (their language is not served,
    or has no template for this kind on that channel) and how many get the outage's title,
    summary or cause in English (the operator gave no translation); biggest first."""
    groups = [(channel, tag, n) for channel, tag, n in groups if primary_language(tag) != "en"]
    rows = [
        Delivery(notice=notice, channel=c, language=content.served_language(t))
        for c, t, _ in groups
    ]
    overrides = content.operator_templates(rows)
    counts: dict[tuple[str, str, bool], int] = defaultdict(int)
    for channel, tag, recipients in groups:
        primary = primary_language(tag)
        served = content.served_language(tag)
        override = content.pick_template(overrides, notice.kind, channel, served)
        worded_in = templating.template_language(notice.kind, channel, served, override)
        if primary_language(worded_in) != primary:
            counts[(primary, _template_reason(primary, notice.kind, channel), True)] += recipients
        elif notice.outage is not None and (missing := untranslated(notice.outage, primary)):
            fields = templating.format_and([_FIELD_WORDS.get(f, f) for f in missing], "en")
            reason = f"no {language_name(primary)} translation of the {fields}"
            counts[(primary, reason, False)] += recipients
    found = [Fallback(lang, n, reason, whole) for (lang, reason, whole), n in counts.items()]
    return sorted(found, key=lambda f: (-f.recipients, f.language, f.reason))


def _template_reason(primary: str, kind: str, channel: str) -> str:
    name = language_name(primary)
    if primary not in settings.AMENDS_LANGUAGES:
        shipped = primary in templating.LANGUAGES
        if shipped or MessageTemplate.objects.filter(language=primary).exists():
            return f"{name} is not in AMENDS_LANGUAGES"
        return f"no {name} templates"
    return f"no {name} template for {kind} notices by {channel}"
