"""Human references that staff read aloud and customers quote: ``OUT-2026-0042``."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction


def next_reference(model: type[models.Model], prefix: str, *, digits: int = 4) -> str:
    """The next free ``<prefix><number>`` of ``model.reference`` (e.g. prefix ``"OUT-2026-"``).

    Callers create the row inside a savepoint and retry on the unique constraint, so two
    writers taking the same number at once cannot both win.
    """
    last = (
        model._default_manager.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{number:0{digits}d}"


M = TypeVar("M", bound=models.Model)


def create_with_reference(model: type[M], prefix: str, *, digits: int = 4, **values: Any) -> M:
    """Create a ``model`` row with the next reference, retrying when a concurrent writer took
    the same number (the unique constraint refuses the second; a savepoint keeps the caller's
    transaction usable)."""
    for attempt in range(5):
        try:
            with transaction.atomic():
                reference = next_reference(model, prefix, digits=digits)
                return model._default_manager.create(reference=reference, **values)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")
