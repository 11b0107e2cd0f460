"""A customer's personal links in a message: one-click unsubscribe, preferences and the
survey's score links. No login: the link's token is the whole authority.

The token is the customer's key signed with ``SECRET_KEY`` (``django.core.signing``, its own
salt): nobody can make one for another customer, and the database holds nothing that would
let a copy of it do so. Unlike a status subscriber's (``subscribers``), a customer's token
needs no stored hash: it names a row that exists anyway and grants only what the customer
could ask a care agent for. Rotating ``SECRET_KEY`` ends every link already sent.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from amends.core.errors import NotFound

_SIGNER = signing.Signer(salt="amends.comms.customer-links")
SCORES = range(1, 6)  # the survey's scale, 1 (poor) to 5 (very good)


def customer_token(customer_id: int) -> str:
    return _SIGNER.sign_object(customer_id)


def customer_from_token(token: str) -> int:
    """The customer a token was made for; NotFound for a forged, mangled or old token."""
    try:
        customer_id = _SIGNER.unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        raise NotFound("this link is not one of ours, or it has expired", field="token") from None
    if not isinstance(customer_id, int):
        raise NotFound("this link is not one of ours, or it has expired", field="token")
    return customer_id


def unsubscribe_url(customer_id: int) -> str:
    return f"{settings.SITE_URL}/u/{customer_token(customer_id)}"


def preferences_url(customer_id: int) -> str:
    return f"{unsubscribe_url(customer_id)}/preferences"


def survey_url(customer_id: int, notice_id: int) -> str:
    """The page of score links; ``{survey_url}/{score}`` records a score in one click."""
    return f"{settings.SITE_URL}/survey/{customer_token(customer_id)}/{notice_id}"
