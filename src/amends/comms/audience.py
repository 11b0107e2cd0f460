"""Who a notice reaches and on which channel, chosen set-based.

For each customer in the audience, the channel is the first one in their own order
(``channel_order``) that they consented to and have an address for. Outage-aware routing: SMS
and push travel over the mobile network, so for a customer whose mobile service is down in
this outage they are *held*: another channel is used if the customer has one, otherwise the
message waits on the held channel until their mobile service is restored.

``CANDIDATES`` below yields one row per (customer, usable channel); a window function keeps the
best one per customer. Both run inside ``INSERT … SELECT`` statements: no Python loop over
customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from amends.comms.models import Audience, DeliveryStatus, Notice, Priority
from amends.core.db import allow_bulk_memory

# channel, address expression, consent column, condition "travels over the mobile network"
_CHANNELS = (
    ("email", "c.email", "c.consent_email", "1 = 0"),
    ("sms", "c.mobile", "c.consent_sms", "1 = 1"),
    ("push", "c.push_token", "c.consent_push", "1 = 1"),
    # A call goes to the other number when there is one, else to the mobile.
    (
        "voice",
        "CASE WHEN c.phone <> '' THEN c.phone ELSE c.mobile END",
        "c.consent_voice",
        "c.phone = ''",
    ),
)


def _position(channel: str) -> str:
    function = "strpos" if connection.vendor == "postgresql" else "instr"
    return f"{function}(c.channel_order, '{channel}')"


def audience_sql(notice: Notice) -> tuple[str, list[Any]]:
    """SELECT customer_id of the notice's audience (one row per customer)."""
    if notice.audience == Audience.LIST:
        marks = ", ".join(["%s"] * len(notice.audience_list)) or "NULL"
        return (
            f"SELECT id AS customer_id FROM network_customer WHERE external_id IN ({marks})",
            list(notice.audience_list),
        )
    where, having = "outage_id = %s", ""
    params: list[Any] = [notice.outage_id]
    if notice.audience in (Audience.STILL_AFFECTED, Audience.ETR_CHANGED):
        where += " AND window_end IS NULL"
    elif notice.audience == Audience.RESTORED:
        having = " HAVING COUNT(CASE WHEN window_end IS NULL THEN 1 END) = 0"
    elif notice.audience == Audience.SEGMENT:
        where += " AND customer_id IN (SELECT id FROM network_customer WHERE segment = %s)"
        params.append(notice.audience_segment)
    return (
        f"SELECT customer_id FROM outages_impact WHERE {where} GROUP BY customer_id{having}",
        params,
    )


def mobile_down_sql(notice: Notice) -> tuple[str, list[Any]]:
    """SELECT customer_id of customers whose mobile service is down in the notice's outage."""
    if notice.outage_id is None:
        return "SELECT 0 AS customer_id WHERE 1 = 0", []
    return (
        "SELECT DISTINCT mi.customer_id FROM outages_impact mi "
        "JOIN network_service ms ON ms.id = mi.service_id "
        "JOIN network_product mp ON mp.id = ms.product_id "
        "WHERE mi.outage_id = %s AND mi.window_end IS NULL AND mp.kind = 'mobile'",
        [notice.outage_id],
    )


def candidates_sql(
    notice: Notice, *, fallback_for: list[int] | None = None
) -> tuple[str, list[Any]]:
    """One row per (customer, usable channel) with ``rank`` 1 on the channel to use: not held
    before held, then the customer's own order.

    With ``fallback_for`` (customer ids whose delivery failed for good), only those customers,
    and only channels the notice has not tried on them yet.
    """
    audience, audience_params = audience_sql(notice)
    untried = ""
    if fallback_for is not None:
        marks = ", ".join(["%s"] * len(fallback_for)) or "NULL"
        audience = f"SELECT customer_id FROM ({audience}) f WHERE customer_id IN ({marks})"
        audience_params = [*audience_params, *fallback_for]
        untried = (
            " AND NOT EXISTS (SELECT 1 FROM comms_delivery d WHERE d.notice_id = %s "
            "AND d.customer_id = c.id AND d.channel = '{channel}')"
        )
    mobile_down, mobile_params = mobile_down_sql(notice)
    parts: list[str] = []
    params: list[Any] = []
    for channel, address, consent, over_mobile in _CHANNELS:
        held = f"CASE WHEN md.customer_id IS NOT NULL AND {over_mobile} THEN 1 ELSE 0 END"
        parts.append(
            f"SELECT c.id AS customer_id, '{channel}' AS channel, {address} AS address, "
            f"{held} AS held, {_position(channel)} AS position, c.language AS language, "
            f"CASE WHEN c.priority_assistance = %s THEN {Priority.PRIORITY_ASSISTANCE} "
            f"WHEN c.segment <> 'consumer' THEN {Priority.BUSINESS} ELSE {Priority.EVERYONE} "
            "END AS priority "
            f"FROM ({audience}) a JOIN network_customer c ON c.id = a.customer_id "
            f"LEFT JOIN ({mobile_down}) md ON md.customer_id = c.id "
            f"WHERE {consent} = %s AND {address} <> '' AND {_position(channel)} > 0"
            + untried.format(channel=channel)
        )
        params += [True, *audience_params, *mobile_params, True]
        if untried:
            params.append(notice.pk)
    ranked = (
        "SELECT customer_id, channel, address, held, language, priority, ROW_NUMBER() OVER "
        "(PARTITION BY customer_id ORDER BY held, position) AS rank "
        f"FROM ({' UNION ALL '.join(parts)}) candidates"
    )
    return ranked, params


def insert_deliveries(
    notice: Notice, *, fallback_for: list[int] | None = None, fallback_from: str = ""
) -> int:
    """Create the outbox rows: each customer's rank-1 channel, held or queued. Returns how many.

    ``fallback_for``/``fallback_from``: the customers whose delivery on that channel failed
    for good get their next channel instead (see ``candidates_sql``).
    """
    allow_bulk_memory()
    ranked, params = candidates_sql(notice, fallback_for=fallback_for)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO comms_delivery (notice_id, customer_id, channel, address, language, "
            "priority, status, attempts, next_attempt_at, provider, provider_id, error, "
            "fallback_from) "
            f"SELECT %s, customer_id, channel, address, language, priority, "
            f"CASE WHEN held = 1 THEN '{DeliveryStatus.HELD}' ELSE '{DeliveryStatus.QUEUED}' "
            f"END, 0, %s, '', '', '', %s FROM ({ranked}) r WHERE rank = 1",
            [notice.pk, now, fallback_from, *params],
        )
        return int(cursor.rowcount)


@dataclass(frozen=True)
class AudienceCounts:
    customers: int
    reachable: int
    by_channel: dict[str, int]
    held: int
    by_language: dict[str, int]
    by_priority: dict[int, int]
    unreachable: dict[str, int]  # reason → customers


def count_audience(notice: Notice) -> AudienceCounts:
    """What sending the notice now would do, without writing anything: one pass over the
    audience, each customer with their chosen channel or the reason there is none."""
    allow_bulk_memory()
    audience, audience_params = audience_sql(notice)
    ranked, params = candidates_sql(notice)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.channel, r.held, r.language, r.priority, CASE "
            "WHEN r.customer_id IS NOT NULL THEN '' "
            "WHEN c.email = '' AND c.mobile = '' AND c.push_token = '' AND c.phone = '' "
            "THEN 'no contact details' ELSE 'opted out of every channel they have' END, "
            f"count(*) FROM ({audience}) a JOIN network_customer c ON c.id = a.customer_id "
            f"LEFT JOIN (SELECT * FROM ({ranked}) x WHERE rank = 1) r "
            "ON r.customer_id = a.customer_id GROUP BY 1, 2, 3, 4, 5",
            audience_params + params,
        )
        rows = cursor.fetchall()
    by_channel: dict[str, int] = {}
    by_language: dict[str, int] = {}
    by_priority: dict[int, int] = {}
    unreachable: dict[str, int] = {}
    held = 0
    for channel, is_held, language, priority, reason, count in rows:
        if reason:
            unreachable[reason] = unreachable.get(reason, 0) + count
            continue
        by_channel[channel] = by_channel.get(channel, 0) + count
        by_language[language] = by_language.get(language, 0) + count
        by_priority[priority] = by_priority.get(priority, 0) + count
        held += count if is_held else 0
    reachable = sum(by_channel.values())
    return AudienceCounts(
        reachable + sum(unreachable.values()),
        reachable,
        by_channel,
        held,
        by_language,
        by_priority,
        unreachable,
    )
