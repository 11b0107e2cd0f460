"""Which services an outage affects, resolved set-based.

``resolve_impact`` computes the services covered by the outage's open include items minus its
exclude items into a temporary table, then (two statements) opens a window for each newly
covered service and closes the window of each service no longer covered. Existing windows are
never moved, so re-running after any scope change or restoration is safe and returns the
difference. No Python loop touches a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from amends.core.db import allow_bulk_memory
from amends.network.queries import subtree_bounds
from amends.outages.models import EndReason, Impact, Outage, ScopeItem, ScopeKind

COVER = "amends_outage_cover"


@dataclass(frozen=True)
class ImpactDiff:
    newly_affected: int
    no_longer_affected: int
    affected_now: int


def _db_datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _marks(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def branch_select(items: list[ScopeItem], *, columns: str) -> tuple[str, list[Any]]:
    """A SELECT of the active services that scope items of one kind and product cover.

    Items of a kind are combined into one condition (``state IN ('NSW', 'VIC')``), so a scope
    of several states or postcodes is one scan and yields each service once.
    """
    kind, product_id = items[0].kind, items[0].product_id
    joins, where = "", ["s.is_active = %s"]
    params: list[Any] = [True]
    if kind == ScopeKind.ELEMENT:
        ranges = [subtree_bounds(item.element.path) for item in items if item.element]
        joins = " JOIN network_networkelement e ON e.id = s.element_id"
        where.append("(" + " OR ".join(["(e.path >= %s AND e.path < %s)"] * len(ranges)) + ")")
        params += [bound for pair in ranges for bound in pair]
    elif kind in (ScopeKind.POSTCODE, ScopeKind.STATE):
        values = [getattr(item, kind) for item in items]
        where.append(f"s.{kind} IN ({_marks(values)})")
        params += values
    elif kind == ScopeKind.LOCALITY:
        where.append(
            "(" + " OR ".join(["(s.state = %s AND UPPER(s.locality) = %s)"] * len(items)) + ")"
        )
        params += [value for item in items for value in (item.state, item.locality)]
    elif kind == ScopeKind.POLYGON:
        # Exact (see scope.polygon_match): the services of the cells wholly inside, and those
        # of the edge cells found inside point by point.
        ids = [item.pk for item in items]
        where.append(
            f"(s.h3_cell IN (SELECT x.cell FROM outages_scopecell x WHERE x.scope_item_id IN "
            f"({_marks(ids)}) AND x.edge = %s) OR s.id IN (SELECT x.service_id FROM "
            f"outages_scopeservice x WHERE x.scope_item_id IN ({_marks(ids)})))"
        )
        params += [*ids, False, *ids]
    elif kind == ScopeKind.SERVICES:
        ids = [item.pk for item in items]
        # DISTINCT: two items of the branch may list the same service.
        columns = f"DISTINCT {columns}"
        joins = (
            " JOIN outages_scopeservice x ON x.service_id = s.id "
            f"AND x.scope_item_id IN ({_marks(ids)})"
        )
        params = [*ids, *params]
    if product_id is not None:
        where.append("s.product_id = %s")
        params.append(product_id)
    return f"SELECT {columns} FROM network_service s{joins} WHERE {' AND '.join(where)}", params


def _branches(items: list[ScopeItem], *, with_times: bool) -> list[list[ScopeItem]]:
    """Items grouped so that each group can be one branch of the cover query."""
    groups: dict[tuple[Any, ...], list[ScopeItem]] = {}
    for item in items:
        key = (item.kind, item.product_id) + ((item.started_at, item.degree) if with_times else ())
        groups.setdefault(key, []).append(item)
    return list(groups.values())


def cover_query(outage: Outage) -> tuple[str, list[Any]]:
    """SELECT service_id, customer_id, started_at, degree of every service the outage covers.

    One branch per kind of open include item (each can use its own index), merged per service
    when there are several (the earliest start and the worst degree of the items covering it),
    minus the services the exclude items cover.
    """
    items = list(outage.scope_items.filter(restored_at__isnull=True).select_related("element"))
    includes = _branches([i for i in items if i.include], with_times=True)
    excludes = _branches([i for i in items if not i.include], with_times=False)
    if not includes:
        return (
            # Typed NULLs: PostgreSQL would take a bare NULL for text.
            "SELECT 0 AS service_id, 0 AS customer_id, CAST(NULL AS TIMESTAMP) AS started_at, "
            "CAST(NULL AS VARCHAR(10)) AS degree WHERE 1 = 0"
        ), []
    parts, params = [], []
    for branch in includes:
        sql, branch_params = branch_select(
            branch, columns="s.id AS service_id, s.customer_id, %s AS started_at, %s AS degree"
        )
        parts.append(sql)
        params += [_db_datetime(branch[0].started_at), branch[0].degree, *branch_params]
    if len(parts) == 1 and not excludes:
        return parts[0], params  # one branch yields each service once: no merge needed
    sql = (
        "SELECT inc.service_id, MIN(inc.customer_id) AS customer_id, "
        "MIN(inc.started_at) AS started_at, MAX(inc.degree) AS degree "
        f"FROM ({' UNION ALL '.join(parts)}) inc"
    )
    if excludes:
        excluded = []
        for branch in excludes:
            part, branch_params = branch_select(branch, columns="s.id AS service_id")
            excluded.append(part)
            params += branch_params
        # An anti-join: NOT IN over a large set degrades to a nested scan on PostgreSQL.
        sql += (
            f" LEFT JOIN ({' UNION ALL '.join(excluded)}) x ON x.service_id = inc.service_id"
            " WHERE x.service_id IS NULL"
        )
    return sql + " GROUP BY inc.service_id", params


_INSERT_IMPACT = (
    "INSERT INTO outages_impact "
    "(outage_id, service_id, customer_id, window_start, window_end, end_reason, degree) "
    "SELECT %s, c.service_id, c.customer_id, c.started_at, NULL, '', c.degree "
)


def resolve_impact(
    outage: Outage, *, at: datetime, end_reason: str = EndReason.SCOPE_CHANGED
) -> ImpactDiff:
    """Bring the outage's Impact rows in line with its scope; windows that close end at ``at``.

    Call inside the transaction that changed the scope. Returns the difference.
    """
    allow_bulk_memory()
    select, params = cover_query(outage)
    if not Impact.objects.filter(outage=outage, window_end__isnull=True).exists():
        # Nothing open to keep, close or update (a new outage): one INSERT … SELECT.
        with connection.cursor() as cursor:
            cursor.execute(f"{_INSERT_IMPACT} FROM ({select}) c", [outage.pk, *params])
            opened = cursor.rowcount
        _refresh_counts(outage)
        return ImpactDiff(opened, 0, opened)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {COVER}")
        cursor.execute(
            f"CREATE TEMP TABLE {COVER} (service_id bigint PRIMARY KEY, customer_id bigint, "
            "started_at timestamp with time zone, degree varchar(10))"
            if connection.vendor == "postgresql"
            else f"CREATE TEMP TABLE {COVER} (service_id integer PRIMARY KEY, customer_id "
            "integer, started_at text, degree text)"
        )
        cursor.execute(f"INSERT INTO {COVER} {select}", params)
        cursor.execute(
            f"{_INSERT_IMPACT} FROM {COVER} c WHERE NOT EXISTS (SELECT 1 FROM outages_impact i "
            "WHERE i.outage_id = %s AND i.service_id = c.service_id AND i.window_end IS NULL)",
            [outage.pk, outage.pk],
        )
        opened = cursor.rowcount
        cursor.execute(
            "UPDATE outages_impact SET window_end = %s, end_reason = %s "
            "WHERE outage_id = %s AND window_end IS NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {COVER} c WHERE c.service_id = outages_impact.service_id)",
            [_db_datetime(at), end_reason, outage.pk],
        )
        closed = cursor.rowcount
        cursor.execute(
            f"UPDATE outages_impact SET degree = c.degree FROM {COVER} c "
            "WHERE outages_impact.outage_id = %s AND outages_impact.window_end IS NULL "
            "AND outages_impact.service_id = c.service_id AND outages_impact.degree <> c.degree",
            [outage.pk],
        )
        cursor.execute(f"SELECT count(*) FROM {COVER}")
        (now_affected,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {COVER}")
    _refresh_counts(outage)
    if closed:
        _announce_closed(outage.pk)
    return ImpactDiff(opened, closed, now_affected)


def _announce_closed(outage_id: int) -> None:
    from amends.outages.signals import windows_closed

    transaction.on_commit(lambda: windows_closed.send(sender=Outage, outage_id=outage_id))


def _refresh_counts(outage: Outage) -> None:
    """Cache the distinct services and customers ever affected on the outage row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT service_id), count(DISTINCT customer_id) "
            "FROM outages_impact WHERE outage_id = %s",
            [outage.pk],
        )
        services, customers = cursor.fetchone()
    Outage.objects.filter(pk=outage.pk).update(
        affected_services=services, affected_customers=customers
    )
    outage.affected_services, outage.affected_customers = services, customers
