"""Per-recipient template context that other apps supply, batch by batch.

Some notices carry facts only another app knows about each recipient — a "credit applied"
notice carries that customer's amount and how it was worked out, which the remediation app
holds. Such an app registers a *provider* (in its ``AppConfig.ready()``); the renderer calls
every provider once per notice in a claimed batch with the batch's customer ids, and merges
what it returns into each customer's template context. A provider must answer with one query
per call (the batch is up to ``AMENDS_DISPATCH_BATCH`` customers) and return nothing, cheaply,
for notices it has nothing to add to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from amends.comms.models import Delivery, Notice

# (notice, customer ids) → {customer id: {template variable: value}}
Provider = Callable[[Notice, list[int]], Mapping[int, Mapping[str, Any]]]

_PROVIDERS: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Add (or replace: ``ready()`` may run twice) the provider called ``name``."""
    _PROVIDERS[name] = provider


def recipient_context(deliveries: Iterable[Delivery]) -> dict[tuple[int, int], dict[str, Any]]:
    """What the providers add for each (notice id, customer id) of the batch."""
    customers: dict[int, list[int]] = defaultdict(list)
    notices: dict[int, Notice] = {}
    for delivery in deliveries:
        if delivery.customer_id is not None:
            customers[delivery.notice_id].append(delivery.customer_id)
            notices[delivery.notice_id] = delivery.notice
    extra: dict[tuple[int, int], dict[str, Any]] = defaultdict(dict)
    for notice_id, ids in customers.items():
        for provider in _PROVIDERS.values():
            for customer_id, values in provider(notices[notice_id], ids).items():
                extra[(notice_id, customer_id)].update(values)
    return dict(extra)
