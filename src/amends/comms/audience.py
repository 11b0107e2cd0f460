"""Who a notice reaches and on which channel, chosen set-based.

For each customer in the audience, the channel is the first one in their own order
(``channel_order``) that they consented to and have an address for. Outage-aware routing: SMS
and push travel over the mobile network, so for a customer whose mobile service is down in
this outage they are *held*: another channel is used if the customer has one, otherwise the
message waits on the held channel until their mobile service is restored.

``choices_sql`` gives each audience customer's choice in one pass over them (a key per channel,
the smallest wins); it runs inside ``INSERT … SELECT``: no Python loop over customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from amends.comms.audience_providers import provided_condition
from amends.comms.models import (
    ONCE_PER_OUTAGE,
    OPTIONAL_KINDS,
    TOLD_OR_TELLING,
    Audience,
    DeliveryStatus,
    Notice,
    Priority,
)
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


def _in_outage(*, open_only: bool = False) -> str:
    """Customers with a service in the outage (``open_only``: still out), as a semi-join:
    the planner knows how many there are, unlike after a GROUP BY … HAVING."""
    still_out = " AND window_end IS NULL" if open_only else ""
    return f"c.id IN (SELECT customer_id FROM outages_impact WHERE outage_id = %s{still_out})"


def audience_condition(notice: Notice) -> tuple[str, list[Any]]:
    """A condition on ``network_customer c``: the customer is in the notice's audience (and,
    for a kind said once per outage, not already told it: ``already_told_condition``)."""
    condition, params = _chosen(notice)
    told = already_told_condition(notice)
    if told is None or notice.include_already_told:
        return condition, params
    return f"({condition}) AND NOT {told[0]}", [*params, *told[1]]


def already_told_condition(notice: Notice) -> tuple[str, list[Any]] | None:
    """A condition on ``network_customer c``: another notice of this kind about this outage
    told the customer or is telling them (a message sent, delivered or on its way); None when
    the kind is not said once per outage.

    A provided audience is left to its app, which knows what each customer was told (a
    remediation credit notice tells of one payout: a customer paid again is told again, and
    one a first notice never reached is told by a later one).
    """
    if (
        notice.kind not in ONCE_PER_OUTAGE
        or notice.outage_id is None
        or notice.audience == Audience.PROVIDED
    ):
        return None
    statuses = ", ".join(["%s"] * len(TOLD_OR_TELLING))
    # By (notice, customer): the delivery_one_per_customer_channel index answers each probe.
    return (
        "EXISTS (SELECT 1 FROM comms_delivery t WHERE t.customer_id = c.id "
        f"AND t.status IN ({statuses}) AND t.notice_id IN (SELECT n.id FROM comms_notice n "
        "WHERE n.outage_id = %s AND n.kind = %s AND n.id <> %s))",
        [*TOLD_OR_TELLING, notice.outage_id, notice.kind, notice.pk or 0],
    )


def _chosen(notice: Notice) -> tuple[str, list[Any]]:
    """Whom the notice's audience names, before leaving out those already told."""
    if notice.audience == Audience.STAFF:  # staff only: no customer
        return "1 = 0", []
    if notice.audience == Audience.LIST:
        marks = ", ".join(["%s"] * len(notice.audience_list)) or "NULL"
        return f"c.external_id IN ({marks})", list(notice.audience_list)
    if notice.audience in (Audience.STILL_AFFECTED, Audience.ETR_CHANGED):
        return _in_outage(open_only=True), [notice.outage_id]
    if notice.audience == Audience.RESTORED:  # affected, and no window of theirs still open
        return (
            f"{_in_outage()} AND NOT EXISTS (SELECT 1 FROM outages_impact o WHERE "
            "o.outage_id = %s AND o.customer_id = c.id AND o.window_end IS NULL)",
            [notice.outage_id, notice.outage_id],
        )
    if notice.audience == Audience.SEGMENT:
        return f"c.segment = %s AND {_in_outage()}", [notice.audience_segment, notice.outage_id]
    if notice.audience == Audience.PROVIDED:  # another app's, e.g. a program's paid customers
        return provided_condition(notice)
    return _in_outage(), [notice.outage_id]


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


# Each usable channel gets a key: rank * 10 + its index in _CHANNELS, where rank is its
# position in the customer's channel_order (< 64, the column's length), plus HELD when it is
# held. The smallest key wins and tells both the channel (key % 10) and whether it is held
# (key / HELD = 1). A channel that cannot be used gets UNREACHABLE (% 10 = 9: no channel).
HELD = 1000
UNREACHABLE = 9999
# Both databases inline a plain subquery, pasting the long key expression into every place
# that reads it; a subquery with an OFFSET is not inlined, so each key is computed once.
_EVALUATE_ONCE = {"postgresql": " OFFSET 0", "sqlite": " LIMIT -1 OFFSET 0"}


def _keys(*, tried_for: int | None) -> tuple[list[str], list[Any]]:
    """Each channel's key expression; with ``tried_for`` (a notice id) a channel already
    tried on the customer for that notice is unusable."""
    keys, params = [], []
    for index, (channel, address, consent, over_mobile) in enumerate(_CHANNELS):
        untried = ""
        if tried_for is not None:
            untried = (
                " AND NOT EXISTS (SELECT 1 FROM comms_delivery d WHERE d.notice_id = %s "
                f"AND d.customer_id = c.id AND d.channel = '{channel}')"
            )
            params.append(tried_for)
        held = f"CASE WHEN md.customer_id IS NOT NULL AND {over_mobile} THEN {HELD} ELSE 0 END"
        rank = f"NULLIF({_position(channel)}, 0)"  # NULL when not in their order
        keys.append(
            f"CASE WHEN {consent} AND {address} <> ''{untried} "
            f"THEN COALESCE({rank} * 10 + {index} + {held}, {UNREACHABLE}) ELSE {UNREACHABLE} END"
        )
    return keys, params


def _by_winner(parts: list[str], default: str) -> str:
    """The part of the winning channel (by the best key's channel index), else default."""
    whens = " ".join(f"WHEN {index} THEN {part}" for index, part in enumerate(parts))
    return f"CASE k.best %% 10 {whens} ELSE {default} END"  # %% : a literal % here


UNSUBSCRIBED = 2  # no_contact's value for a customer who unsubscribed from this kind


def _unsubscribed(notice: Notice) -> str:
    """The customer unsubscribed from what this notice is (see ``OPTIONAL_KINDS``)."""
    if notice.kind in OPTIONAL_KINDS and not notice.urgent:
        return "c.unsubscribed_at IS NOT NULL"
    return "1 = 0"


def choices_sql(notice: Notice, *, fallback_for: list[int] | None = None) -> tuple[str, list[Any]]:
    """One row per audience customer: customer_id, channel (NULL when unreachable), address,
    held, language, priority, no_contact (1 when they have no contact details at all,
    UNSUBSCRIBED when they asked not to get this kind of message).

    One scan of the audience: each channel gets a key (see HELD above) and the smallest wins.
    With ``fallback_for`` (customers whose delivery failed for good), only those customers,
    and only channels not yet tried on them.
    """
    audience, audience_params = audience_condition(notice)
    if fallback_for is not None:
        audience += f" AND c.id IN ({', '.join(['%s'] * len(fallback_for)) or 'NULL'})"
        audience_params = [*audience_params, *fallback_for]
    keys, key_params = _keys(tried_for=notice.pk if fallback_for is not None else None)
    mobile_down, mobile_params = mobile_down_sql(notice)
    least = "LEAST" if connection.vendor == "postgresql" else "MIN"  # SQLite's scalar min()
    best = f"{least}({', '.join(keys)})"
    unsubscribed = _unsubscribed(notice)
    keyed = (
        "SELECT c.id AS customer_id, c.language AS language, "
        f"CASE WHEN c.priority_assistance THEN {Priority.PRIORITY_ASSISTANCE} "
        f"WHEN c.segment <> 'consumer' THEN {Priority.BUSINESS} ELSE {Priority.EVERYONE} "
        "END AS priority, "
        + "".join(f"{address} AS a_{channel}, " for channel, address, _, _ in _CHANNELS)
        + f"CASE WHEN {unsubscribed} THEN {UNSUBSCRIBED} "
        "WHEN c.email = '' AND c.mobile = '' AND c.push_token = '' AND c.phone = '' "
        f"THEN 1 ELSE 0 END AS no_contact, "
        f"CASE WHEN {unsubscribed} THEN {UNREACHABLE} ELSE {best} END AS best "
        f"FROM network_customer c LEFT JOIN ({mobile_down}) md ON md.customer_id = c.id "
        f"WHERE {audience}{_EVALUATE_ONCE[connection.vendor]}"
    )
    names = [channel for channel, *_ in _CHANNELS]
    channel = _by_winner([f"'{name}'" for name in names], "NULL")
    address = _by_winner([f"k.a_{name}" for name in names], "''")
    sql = (
        f"SELECT k.customer_id, {channel} AS channel, {address} AS address, "
        f"CASE k.best / {HELD} WHEN 1 THEN 1 ELSE 0 END AS held, "
        f"k.language, k.priority, k.no_contact FROM ({keyed}) k"
    )
    return sql, [*key_params, *mobile_params, *audience_params]


def insert_deliveries(
    notice: Notice, *, fallback_for: list[int] | None = None, fallback_from: str = ""
) -> int:
    """Create the outbox rows: each customer's chosen channel, held or queued; returns how many.

    ``fallback_for``/``fallback_from``: the customers whose delivery on that channel failed
    for good get their next channel instead (see ``choices_sql``).
    """
    if fallback_for is None:
        prepare_for_audience(notice)
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


# From this many affected services on, an outage is big: statements over a notice's whole
# audience join by hashing only, and the planner must know the outage (prepare_for_audience).
BIG_OUTAGE = 10_000


def prepare_for_audience(notice: Notice) -> None:
    """Set up the current transaction for a statement over the notice's whole audience.

    Memory for big hash joins; and for a big outage on PostgreSQL, statistics that know it
    and no nested loops. An outage declared a minute ago is "one row" to statistics gathered
    before it, and the planner would rescan it once per customer (a million times a hundred
    thousand rows), here and in every dispatch batch's lookups. A hash join costs the same
    whatever the estimate; with few affected services the planner's choice is kept (index
    lookups, cheap even when it misjudges a small outage).
    """
    allow_bulk_memory()
    outage = notice.outage
    if connection.vendor != "postgresql" or not outage or outage.affected_services < BIG_OUTAGE:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename = 'outages_impact' AND attname = 'outage_id' "
            "AND %s = ANY(most_common_vals::text::bigint[])",
            [outage.pk],
        )
        if cursor.fetchone() is None:  # a big outage is among the most common values
            cursor.execute("ANALYZE outages_impact (outage_id, customer_id, window_end)")
        cursor.execute("SET LOCAL enable_nestloop = off")


@dataclass(frozen=True)
class AudienceCounts:
    customers: int
    reachable: int
    by_channel: dict[str, int]
    held: int
    by_language: dict[str, int]
    by_priority: dict[int, int]
    unreachable: dict[str, int]  # reason → customers
    # Named by the audience but already told this kind about the outage: left out, unless
    # the notice includes them (then they are counted above as well).
    already_told: int = 0


def count_already_told(notice: Notice) -> int:
    """How many customers the audience names were already told this kind (see
    ``already_told_condition``); 0 for kinds said more than once."""
    told = already_told_condition(notice)
    if told is None:
        return 0
    chosen, params = _chosen(notice)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM network_customer c WHERE {chosen} AND {told[0]}",
            [*params, *told[1]],
        )
        return int(cursor.fetchone()[0])


_UNREACHABLE_REASONS = {
    0: "opted out of every channel they have",
    1: "no contact details",
    UNSUBSCRIBED: "unsubscribed from messages like this",
}


def count_audience(notice: Notice) -> AudienceCounts:
    """What sending the notice now would do, without writing anything: one pass over the
    audience, each customer with their chosen channel or the reason there is none."""
    choices, params = choices_sql(notice)
    with transaction.atomic(), connection.cursor() as cursor:  # for prepare's SET LOCALs
        prepare_for_audience(notice)
        cursor.execute(
            "SELECT channel, held, language, priority, no_contact, count(*) "
            f"FROM ({choices}) r GROUP BY channel, held, language, priority, no_contact",
            params,
        )
        rows = cursor.fetchall()
        already_told = count_already_told(notice)
    by_channel: dict[str, int] = {}
    by_language: dict[str, int] = {}
    by_priority: dict[int, int] = {}
    unreachable: dict[str, int] = {}
    held = 0
    for channel, is_held, language, priority, no_contact, count in rows:
        if channel is None:
            reason = _UNREACHABLE_REASONS[no_contact]
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
        already_told,
    )
