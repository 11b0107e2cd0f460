"""Message templates: one approved notice, worded for each channel and language.

How a message is made
    ``render(kind, channel, language, context, override=None)`` picks the operator's own
    ``MessageTemplate`` if given, else the shipped default in the recipient's language, else
    the English one, and renders each part the channel sends in a Jinja2 *sandbox* with
    ``StrictUndefined``: a misspelt variable is an error, never an empty gap in a message to
    a million people. Only the email HTML part is auto-escaped. Templates are compiled once
    per distinct source (an LRU cache), so a mass send does not re-parse.

What a template can use
    ``VARIABLES`` (documented, one line each), ``FILTERS`` (``datetime``, ``join_and``,
    ``money``, each in the template's language) and ``sample_context()``, the recipient the
    console previews with. ``validate()`` refuses a template at save time if it does not
    parse, names an unknown variable, or fails to render for the sample recipient of every
    shipped language.

Where the shipped defaults live
    ``templates/<language>/<kind>/<channel>.<part>.j2`` next to this file, e.g.
    ``templates/vi/restored/sms.text.j2``. Parts: email ``subject``, ``text``, ``html``;
    push ``subject`` (the title) and ``text``; sms, voice, social and webhook (a JSON
    document) ``text`` only. ``templates/<language>/_shared/`` holds what the email parts
    of every kind share: the facts a regulator requires in every outage message
    (``facts.text.j2``, ``facts.html.j2``), the HTML layout (``email.html.j2``) and the
    unsubscribe footer; English also has the webhook document. They are reached by
    ``{% include "en/_shared/facts.text.j2" %}``, which operators' templates may use too.
    The folder is called ``templates`` so the package-data rule ships it in the wheel;
    Django does not look inside it (it is not an app's top-level templates folder).

SMS cost
    ``sms_info(text)``: encoding, length, segments, and the characters that forced UCS-2.
"""

from __future__ import annotations

from amends.comms.templating.environment import format_and, scale_phrase
from amends.comms.templating.rendering import (
    PARTS,
    MissingTemplate,
    Problem,
    Rendered,
    TemplateProblem,
    default_sources,
    render,
    template_language,
)
from amends.comms.templating.sms import SmsInfo, sms_info
from amends.comms.templating.validation import validate
from amends.comms.templating.variables import (
    FILTERS,
    LANGUAGES,
    VARIABLES,
    greeting_name,
    sample_context,
)

__all__ = [
    "FILTERS",
    "LANGUAGES",
    "PARTS",
    "VARIABLES",
    "MissingTemplate",
    "Problem",
    "Rendered",
    "SmsInfo",
    "TemplateProblem",
    "default_sources",
    "format_and",
    "greeting_name",
    "render",
    "sample_context",
    "scale_phrase",
    "sms_info",
    "template_language",
    "validate",
]
