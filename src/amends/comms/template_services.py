"""Every write to the operator's own message wording: save a new version of a template.

A template is refused at save time if it would fail when a mass send renders it (a syntax
error, an unknown variable, a value that is often missing in real life): see
``templating.validate``. Nothing is ever overwritten; each save is the next version, and the
dispatcher uses the latest.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max

from amends.comms import templating
from amends.comms.models import Capability, MessageTemplate, NoticeKind
from amends.comms.templating import Problem
from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.core.roles import Role, has_role

# Wording is the communications lead's: commanders write notices, not the words every one uses.
TEMPLATE_EDITORS = (Role.COMMUNICATIONS, Role.ADMIN)
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
# MessageTemplate keeps the parts as subject, body (the text part) and html.
FIELD_FOR_PART = {"subject": "subject", "text": "body", "html": "html"}


class TemplateRefused(AmendsError):
    """The template would not render: every problem, each naming its part and line."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(
            "; ".join(str(problem) for problem in problems),
            field=FIELD_FOR_PART.get(first.part, first.part),
        )
        self.problems = problems


def template_save(
    *,
    actor: User,
    kind: str,
    channel: str,
    language: str,
    subject: str = "",
    body: str = "",
    html: str = "",
) -> MessageTemplate:
    """Save the operator's wording for one kind × channel × language as a new version."""
    if not has_role(actor, *TEMPLATE_EDITORS):
        raise AmendsError("your account has no role that may edit message templates", status=403)
    if kind not in NoticeKind.values:
        raise AmendsError(f"{kind!r} is not a notice kind", field="kind")
    if channel not in Capability.values or channel not in templating.PARTS:
        raise AmendsError(f"{channel!r} is not a channel", field="channel")
    if not LANGUAGE_TAG.fullmatch(language):
        raise AmendsError(
            f"{language!r} is not a language tag such as en, zh or pt-BR", field="language"
        )
    sources = {"subject": subject, "text": body, "html": html}
    problems = templating.validate(sources, kind=kind, channel=channel)
    if problems:
        raise TemplateRefused(problems)
    try:
        with transaction.atomic():
            latest = MessageTemplate.objects.filter(
                kind=kind, channel=channel, language=language
            ).aggregate(latest=Max("version"))["latest"]
            template = MessageTemplate.objects.create(
                kind=kind,
                channel=channel,
                language=language,
                subject=subject,
                body=body,
                html=html,
                version=(latest or 0) + 1,
                author=audit.actor_name(actor)[:150],
            )
            audit.record(
                actor,
                "comms.template_save",
                template,
                before={"version": latest},
                after={
                    "kind": kind,
                    "channel": channel,
                    "language": language,
                    "version": template.version,
                },
            )
    except IntegrityError as error:
        # Two people saved the same template at once: both read the same latest version, and
        # the unique (kind, channel, language, version) lets only the first one in.
        raise Conflict(
            "someone saved this template a moment ago; reload it and save again"
        ) from error
    return template
