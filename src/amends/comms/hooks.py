"""Provider webhooks: delivery receipts and inbound SMS.

* ``POST /comms/receipts/twilio/`` — Twilio's message status callback (the adapter sets it on
  every SMS it sends);
* ``POST /comms/inbound/twilio/`` — Twilio's "a message comes in" webhook of our number;
* ``/comms/anymail/<esp>/tracking/`` — anymail's tracking webhooks (Postmark: configure
  ``https://USER:PASSWORD@SITE/comms/anymail/postmark/tracking/``), whose events reach
  ``anymail_tracking`` through anymail's ``tracking`` signal.

Every one of them proves where it comes from: Twilio's by the X-Twilio-Signature (an HMAC of
the URL and form with our auth token), anymail's by HTTP basic auth with
``ANYMAIL_WEBHOOK_SECRET``. Anymail itself accepts anything, with a warning, when that secret
is empty; ``secret_required`` refuses instead, so an unset secret never opens the door.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from anymail.signals import AnymailTrackingEvent
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from amends.comms.inbound import receive_sms
from amends.comms.receipts import apply_receipts

log = logging.getLogger(__name__)

INBOUND_PATH = "/comms/inbound/twilio/"
TWILIO = "twilio"  # the Twilio channel's provider name on its deliveries

View = Callable[..., HttpResponse]


def _twilio_form(request: HttpRequest, path: str) -> dict[str, str]:
    """The POSTed form, if X-Twilio-Signature proves Twilio sent it to SITE_URL + path."""
    from twilio.request_validator import RequestValidator

    token = settings.AMENDS_TWILIO_AUTH_TOKEN
    form = {key: request.POST[key] for key in request.POST}
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not RequestValidator(token).validate(settings.SITE_URL + path, form, signature):
        raise PermissionDenied("X-Twilio-Signature does not match this request")
    return form


@csrf_exempt
@require_POST
def twilio_receipt(request: HttpRequest) -> HttpResponse:
    """A status callback: the adapter checks the signature (403) and reads the receipt."""
    from amends.comms.channels.sms_twilio import RECEIPT_PATH, receipt_from_status_callback

    receipt = receipt_from_status_callback(
        settings.SITE_URL + RECEIPT_PATH,
        request.POST,
        request.headers.get("X-Twilio-Signature", ""),
    )
    if receipt is not None:
        apply_receipts(TWILIO, [receipt])
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    """An SMS to our number: kept, understood, answered in TwiML (nothing when no reply)."""
    from twilio.twiml.messaging_response import MessagingResponse

    form = _twilio_form(request, INBOUND_PATH)
    result = receive_sms(
        sender=form.get("From", ""),
        text=form.get("Body", ""),
        provider_id=form.get("MessageSid", ""),
    )
    twiml = MessagingResponse()
    if result.reply:
        twiml.message(result.reply)  # the SDK escapes it for XML
    return HttpResponse(twiml.to_xml(), content_type="text/xml; charset=utf-8")


def anymail_tracking(
    sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    """Receiver of anymail's ``tracking`` signal: a delivery, bounce or rejection settles the
    delivery that carries the ESP's message id (provider = the channel's name, "postmark")."""
    from amends.comms.channels.email_anymail import receipt_from_tracking

    receipt = receipt_from_tracking(event)
    if receipt is not None:
        apply_receipts(esp_name.lower(), [receipt])


def secret_required(view: View) -> View:
    """Wrap one of anymail's webhook views: refuse (403) while no webhook secret is set."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from anymail.utils import get_anymail_setting

        if not get_anymail_setting("webhook_secret", default=None):
            log.error("refused an email provider webhook: ANYMAIL_WEBHOOK_SECRET is not set")
            return HttpResponseForbidden("webhook secret not configured")
        return view(request, *args, **kwargs)

    return csrf_exempt(guarded)
