"""Pagination of the API's lists: ninja's limit/offset, on a view whose types are resolved."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from ninja.pagination import LimitOffsetPagination, paginate


def paged(view: Callable[..., Any]) -> Callable[..., Any]:
    """``paginate(LimitOffsetPagination)``. Its wrapper lives in ninja's module, where ninja
    would look up our string annotations, so a filter typed with one of our choices
    (``status: Status | None``) would not be found there: resolve them here first."""
    view.__annotations__ = typing.get_type_hints(view, include_extras=True)
    return paginate(LimitOffsetPagination)(view)
