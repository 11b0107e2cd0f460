"""Background tasks owned by core."""

from __future__ import annotations

from django_tasks import task

from amends.core import audit


@task()
def verify_audit_chain() -> int:
    """Check the whole audit chain off the request path; returns the number of problems."""
    return sum(1 for _ in audit.verify())
