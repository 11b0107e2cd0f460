"""Signals other apps listen to. Outages is a lower layer: it announces what changed and
never imports the apps that react (communications wakes the outage's notices on it)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once the transaction that closed some of the outage's impact windows commits (a
# restoration or a smaller scope), with ``outage_id``: customers may be back now.
windows_closed = Signal()
