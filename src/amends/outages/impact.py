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

from django.db import connection

from amends.network.queries import subtree_bounds
from amends.outages.models import EndReason, Outage, ScopeItem, ScopeKind

COVER = "amends_outage_cover"


@dataclass(frozen=True)
class ImpactDiff:
    newly_affected: int
    no_longer_affected: int
    affected_now: int


def _db_datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def item_select(item: ScopeItem, *, columns: str) -> tuple[str, list[Any]]:
    """A SELECT of the active services one scope item covers, with ``columns`` from ``s``."""
    joins, where = "", ["s.is_active = %s"]
    params: list[Any] = [True]
    if item.kind == ScopeKind.ELEMENT:
        assert item.element is not None
        low, high = subtree_bounds(item.element.path)
        joins = " JOIN network_networkelement e ON e.id = s.element_id"
        where += ["e.path >= %s", "e.path < %s"]
        params += [low, high]
    elif item.kind == ScopeKind.POSTCODE:
        where.append("s.postcode = %s")
        params.append(item.postcode)
    elif item.kind == ScopeKind.LOCALITY:
        where += ["s.state = %s", "UPPER(s.locality) = %s"]
        params += [item.state, item.locality]
    elif item.kind == ScopeKind.STATE:
        where.append("s.state = %s")
        params.append(item.state)
    elif item.kind == ScopeKind.POLYGON:
        joins = " JOIN outages_scopecell c ON c.cell = s.h3_cell AND c.scope_item_id = %s"
        params.insert(0, item.pk)
    elif item.kind == ScopeKind.SERVICES:
        joins = " JOIN outages_scopeservice ss ON ss.service_id = s.id AND ss.scope_item_id = %s"
        params.insert(0, item.pk)
    if item.product_id is not None:
        where.append("s.product_id = %s")
        params.append(item.product_id)
    return f"SELECT {columns} FROM network_service s{joins} WHERE {' AND '.join(where)}", params


def cover_query(outage: Outage) -> tuple[str, list[Any]]:
    """SELECT service_id, customer_id, started_at, degree of every service the outage covers."""
    items = list(outage.scope_items.filter(restored_at__isnull=True).select_related("element"))
    includes = [i for i in items if i.include]
    excludes = [i for i in items if not i.include]
    if not includes:
        return "SELECT 0, 0, NULL, NULL WHERE 1 = 0", []
    parts, params = [], []
    for item in includes:
        sql, item_params = item_select(
            item, columns="s.id AS service_id, s.customer_id, %s AS started_at, %s AS degree"
        )
        parts.append(sql)
        params += [_db_datetime(item.started_at), item.degree, *item_params]
    sql = (
        "SELECT inc.service_id, MIN(inc.customer_id), MIN(inc.started_at), MAX(inc.degree) "
        f"FROM ({' UNION ALL '.join(parts)}) inc"
    )
    if excludes:
        excluded = []
        for item in excludes:
            part, item_params = item_select(item, columns="s.id")
            excluded.append(part)
            params += item_params
        sql += f" WHERE inc.service_id NOT IN ({' UNION ALL '.join(excluded)})"
    return sql + " GROUP BY inc.service_id", params


def resolve_impact(
    outage: Outage, *, at: datetime, end_reason: str = EndReason.SCOPE_CHANGED
) -> ImpactDiff:
    """Bring the outage's Impact rows in line with its scope; windows that close end at ``at``.

    Call inside the transaction that changed the scope. Returns the difference.
    """
    select, params = cover_query(outage)
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
            "INSERT INTO outages_impact "
            "(outage_id, service_id, customer_id, window_start, window_end, end_reason, degree) "
            "SELECT %s, c.service_id, c.customer_id, c.started_at, NULL, '', c.degree "
            f"FROM {COVER} c "
            "WHERE NOT EXISTS (SELECT 1 FROM outages_impact i WHERE i.outage_id = %s "
            "AND i.service_id = c.service_id AND i.window_end IS NULL)",
            [outage.pk, outage.pk],
        )
        opened = cursor.rowcount
        cursor.execute(
            "UPDATE outages_impact SET window_end = %s, end_reason = %s "
            "WHERE outage_id = %s AND window_end IS NULL "
            f"AND service_id NOT IN (SELECT service_id FROM {COVER})",
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
    return ImpactDiff(opened, closed, now_affected)


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
