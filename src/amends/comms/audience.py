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


UNREACHABLE = 999  # the key of a channel a customer cannot be reached on
HELD_PENALTY = 100  # a held channel ranks after every channel usable now


def choices_sql(notice: Notice, *, fallback_for: list[int] | None = None) -> tuple[str, list[Any]]:
    """One row per audience customer: customer_id, channel (NULL when unreachable), address,
    held, language, priority, no_contact (1 when they have no contact details at all).

    One scan: each channel gets a key = its position in the customer's order (+100 when held,
    999 when unusable) and the smallest key wins. With ``fallback_for`` (customers whose
    delivery failed for good), only those customers, and only channels not yet tried on them.
    """
    audience, audience_params = audience_sql(notice)
    if fallback_for is not None:
        marks = ", ".join(["%s"] * len(fallback_for)) or "NULL"
        audience = f"SELECT customer_id FROM ({audience}) f WHERE customer_id IN ({marks})"
        audience_params = [*audience_params, *fallback_for]
    mobile_down, mobile_params = mobile_down_sql(notice)
    keys: list[str] = []
    key_params: list[Any] = []
    for channel, address, consent, over_mobile in _CHANNELS:
        untried = ""
        if fallback_for is not None:
            untried = (
                " AND NOT EXISTS (SELECT 1 FROM comms_delivery d WHERE d.notice_id = %s "
                f"AND d.customer_id = c.id AND d.channel = '{channel}')"
            )
        keys.append(
            f"CASE WHEN {consent} = %s AND {address} <> '' AND {_position(channel)} > 0"
            f"{untried} THEN {_position(channel)} + CASE WHEN md.customer_id IS NOT NULL "
            f"AND {over_mobile} THEN {HELD_PENALTY} ELSE 0 END ELSE {UNREACHABLE} END "
            f"AS k_{channel}"
        )
        key_params += [True] + ([notice.pk] if untried else [])
    keyed = (
        "SELECT c.id AS customer_id, c.language AS language, "
        f"CASE WHEN c.priority_assistance = %s THEN {Priority.PRIORITY_ASSISTANCE} "
        f"WHEN c.segment <> 'consumer' THEN {Priority.BUSINESS} ELSE {Priority.EVERYONE} "
        "END AS priority, "
        + ", ".join(f"{address} AS a_{channel}" for channel, address, _, _ in _CHANNELS)
        + ", "
        "CASE WHEN c.email = '' AND c.mobile = '' AND c.push_token = '' AND c.phone = '' "
        "THEN 1 ELSE 0 END AS no_contact, "
        + ", ".join(keys)
        + f" FROM ({audience}) a JOIN network_customer c ON c.id = a.customer_id "
        f"LEFT JOIN ({mobile_down}) md ON md.customer_id = c.id"
    )
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"  # SQLite's scalar min()
    names = [channel for channel, *_ in _CHANNELS]
    best = f"{least}({', '.join(f'k_{n}' for n in names)})"
    pick = " ".join(f"WHEN k.best = k.k_{n} THEN " + "{}" for n in names)
    channel_case = (
        "CASE WHEN k.best >= "
        + str(UNREACHABLE)
        + " THEN NULL "
        + pick.format(*(f"'{n}'" for n in names))
        + " END"
    )
    address_case = (
        "CASE WHEN k.best >= "
        + str(UNREACHABLE)
        + " THEN '' "
        + pick.format(*(f"k.a_{n}" for n in names))
        + " END"
    )
    sql = (
        f"SELECT k.customer_id, {channel_case} AS channel, {address_case} AS address, "
        f"CASE WHEN k.best >= {HELD_PENALTY} AND k.best < {UNREACHABLE} THEN 1 ELSE 0 END "
        "AS held, k.language, k.priority, k.no_contact "
        f"FROM (SELECT keyed.*, {best} AS best FROM ({keyed}) keyed) k"
    )
    return sql, [True, *key_params, *audience_params, *mobile_params]


def insert_deliveries(
    notice: Notice, *, fallback_for: list[int] | None = None, fallback_from: str = ""
) -> int:
    """Create the outbox rows: each customer's chosen channel, held or queued; returns how many.

    ``fallback_for``/``fallback_from``: the customers whose delivery on that channel failed
    for good get their next channel instead (see ``choices_sql``).
    """
    allow_bulk_memory()
    choices, params = choices_sql(notice, fallback_for=fallback_for)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO comms_delivery (notice_id, customer_id, channel, address, language, "
            "priority, status, attempts, next_attempt_at, provider, provider_id, error, "
            "fallback_from) "
            f"SELECT %s, customer_id, channel, address, language, priority, "
            f"CASE WHEN held = 1 THEN '{DeliveryStatus.HELD}' ELSE '{DeliveryStatus.QUEUED}' "
            f"END, 0, %s, '', '', '', %s FROM ({choices}) r WHERE channel IS NOT NULL",
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
    choices, params = choices_sql(notice)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT channel, held, language, priority, no_contact, count(*) "
            f"FROM ({choices}) r GROUP BY channel, held, language, priority, no_contact",
            params,
        )
        rows = cursor.fetchall()
    by_channel: dict[str, int] = {}
    by_language: dict[str, int] = {}
    by_priority: dict[int, int] = {}
    unreachable: dict[str, int] = {}
    held = 0
    for channel, is_held, language, priority, no_contact, count in rows:
        if channel is None:
            reason = "no contact details" if no_contact else "opted out of every channel they have"
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
