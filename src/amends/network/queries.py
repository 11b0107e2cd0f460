"""Reads over customers, services and the network tree."""

from __future__ import annotations

from django.db.models import QuerySet

from amends.network.models import Customer, NetworkElement, Service


def headline_counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.filter(is_former=False).count(),
        "services": Service.objects.filter(is_active=True).count(),
        "elements": NetworkElement.objects.count(),
    }


def subtree_bounds(path: str) -> tuple[str, str]:
    """The half-open range [low, high) of paths at or under ``path`` (which ends with '/')."""
    return path, path[:-1] + "0"


def elements_under(
    element: NetworkElement, *, include_self: bool = True
) -> QuerySet[NetworkElement]:
    low, high = subtree_bounds(element.path)
    elements = NetworkElement.objects.filter(path__gte=low, path__lt=high)
    return elements if include_self else elements.exclude(pk=element.pk)


def services_under(element: NetworkElement) -> QuerySet[Service]:
    low, high = subtree_bounds(element.path)
    return Service.objects.filter(element__path__gte=low, element__path__lt=high)
