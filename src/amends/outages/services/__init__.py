"""Every write to an outage: declare, change scope, move through the lifecycle, set the ETR,
post updates, restore part or all. Each runs in one transaction with an audit entry, checks the
outage's current state, and re-resolves impact and classification when they may change.
"""

from amends.outages.services.common import DEFAULT_UPDATE_INTERVAL, OutageChange
from amends.outages.services.customer_reports import (
    StillOut,
    outage_still_out,
    still_out_handle,
)
from amends.outages.services.declare import outage_declare, outage_preview
from amends.outages.services.lifecycle import TRANSITIONS, outage_transition
from amends.outages.services.periodic import outages_reclassify_open
from amends.outages.services.scope_changes import (
    outage_add_scope,
    outage_remove_scope,
    outage_restore,
)
from amends.outages.services.timeline import (
    outage_post_update,
    outage_propose_restoration,
    outage_set_etr,
)
from amends.outages.services.translations import outage_translate

__all__ = [
    "DEFAULT_UPDATE_INTERVAL",
    "TRANSITIONS",
    "OutageChange",
    "StillOut",
    "outage_add_scope",
    "outage_declare",
    "outage_post_update",
    "outage_preview",
    "outage_propose_restoration",
    "outage_remove_scope",
    "outage_restore",
    "outage_set_etr",
    "outage_still_out",
    "outage_transition",
    "outages_reclassify_open",
    "outage_translate",
    "still_out_handle",
]
