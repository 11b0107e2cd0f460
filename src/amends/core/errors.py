"""The one application error type. Interfaces turn it into their own shape: an RFC 9457
problem response in the API, a form error in the console, a message and exit status 1 in the
CLI. It means "the request was wrong and nothing was changed"."""

from __future__ import annotations


class AmendsError(Exception):
    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class NotFound(AmendsError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field, status=404)


class Conflict(AmendsError):
    """The object is not in a state that allows this (e.g. resolving a closed outage)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field, status=409)
