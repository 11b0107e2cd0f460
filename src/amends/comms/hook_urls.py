"""Provider webhooks, mounted under ``/comms/`` (see ``hooks``).

Anymail's own webhook URLs (``/comms/anymail/postmark/tracking/`` and the other ESPs') are
mounted with each view wrapped in ``secret_required``.
"""

from __future__ import annotations

from anymail import urls as anymail_urls
from django.urls import URLPattern, include, path

from amends.comms import hooks


def _guarded(pattern: URLPattern) -> URLPattern:
    return URLPattern(
        pattern.pattern, hooks.secret_required(pattern.callback), pattern.default_args, pattern.name
    )


urlpatterns = [
    path("receipts/twilio/", hooks.twilio_receipt, name="comms-twilio-receipt"),
    path("inbound/twilio/", hooks.twilio_inbound, name="comms-twilio-inbound"),
    path(
        "anymail/",
        include(([_guarded(p) for p in anymail_urls.urlpatterns], anymail_urls.app_name)),
    ),
]
