"""Amends: know who an outage hurts, tell them, listen, and make good."""

__version__ = "0.1.0"
