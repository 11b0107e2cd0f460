"""The page a credit message links to (``/c/<token>``): one customer's credit, explained.

No login: the token in the link is the key (see ``remedy.credit_links``), and the page shows
nothing but that customer's own confirmed credit or refund — the amount, each line of how it
was worked out, the outages it is for, how it reaches them. Anything else is a plain 404.
The explanation is the calculation's own text, in English; the heading is in the customer's
language where we have it, so a zh/vi reader knows what the page is about.
"""

from __future__ import annotations

import re

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from amends.core.money import format_money
from amends.remedy import queries
from amends.remedy.credit_links import payout_for
from amends.remedy.models import PayoutMethod
from amends.remedy.services.credit_notices import interest_sentence
from amends.remedy.views.claims import _public_page

_LINES = re.compile(r";\s+|\n")

HEADINGS = {
    "en": "Your credit, explained",
    "zh": "您的补偿说明",
    "vi": "Giải thích khoản bồi hoàn của bạn",
}
ENGLISH_NOTE = {
    "zh": "以下说明为英文。如有疑问，请致电我们。",
    "vi": "Phần giải thích dưới đây bằng tiếng Anh. Nếu có thắc mắc, hãy gọi cho chúng tôi.",
}


@require_GET
def credit_page(request: HttpRequest, token: str) -> HttpResponse:
    payout = queries.told_credit(payout_for(token))
    if payout is None or payout.entitlement is None:
        raise Http404("no such credit")
    language = payout.customer.language.replace("_", "-").split("-")[0].lower()
    # The calculation writes its lines separated by "; " (one per service, credit, adjustment).
    lines = [line.strip() for line in _LINES.split(payout.entitlement.explanation) if line.strip()]
    currency = payout.program.policy_version.currency
    interest = interest_sentence(payout.amount_cents, payout.entitlement.total_cents, currency)
    context = {
        "heading": HEADINGS.get(language, HEADINGS["en"]),
        "heading_language": language if language in HEADINGS else "en",
        "english_note": ENGLISH_NOTE.get(language, ""),
        "amount": format_money(payout.amount_cents, currency),
        "interest": interest,
        "refund": payout.method == PayoutMethod.REFUND,
        "lines": lines,
        "outages": list(payout.program.outages.order_by("started_at", "pk")),
        "program": payout.program.reference,
        "time_zone": payout.customer.time_zone,
    }
    response = _public_page(request, "remedy/credit/page.html", context)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leave in a Referer
    return response


urlpatterns = [path("<str:token>", credit_page, name="page")]
