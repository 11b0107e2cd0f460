"""The operator's public words about an outage in the customers' other languages."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.db import transaction

from amends.core import audit
from amends.core.errors import AmendsError
from amends.outages.models import Outage
from amends.outages.queries import TRANSLATABLE, primary_language


def outage_translate(
    *, actor: audit.Actor, outage: Outage, language: str, texts: Mapping[str, str]
) -> Outage:
    """Set the title, public summary, cause (and restoration summary) in one language,
    replacing what that language had; a blank text removes it, so the English is used.
    Messages to customers in ``language`` use these words from the next one rendered."""
    code = primary_language(language)
    if code not in settings.AMENDS_LANGUAGES or code == "en":
        others = ", ".join(c for c in settings.AMENDS_LANGUAGES if c != "en") or "none"
        raise AmendsError(
            f"{language!r} is not a language customers are served in besides English "
            f"(AMENDS_LANGUAGES: {others})",
            field="language",
        )
    for name in texts:
        if name not in TRANSLATABLE:
            raise AmendsError(
                f"{name!r} cannot be translated; use one of {', '.join(TRANSLATABLE)}",
                field=name,
            )
    given = {name: text.strip() for name, text in texts.items() if text.strip()}
    with transaction.atomic():
        outage = Outage.objects.select_for_update().get(pk=outage.pk)
        translations = dict(outage.translations or {})
        before = translations.get(code, {})
        if given:
            translations[code] = given
        else:
            translations.pop(code, None)
        outage.translations = translations
        outage.save(update_fields=["translations", "updated_at"])
        audit.record(actor, "outage.translated", outage, before={code: before}, after={code: given})
    return outage
