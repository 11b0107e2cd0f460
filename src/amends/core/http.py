"""Small helpers about the HTTP request itself, shared by the public forms and the logs."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def _address(text: str) -> str | None:
    """``text`` as a canonical IP address, or None if it is not one."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The visitor's address, for the per-client rate limits of the public forms.

    Behind a proxy (``AMENDS_CLIENT_IP_HEADER``, e.g. ``X-Forwarded-For``) it is the header's
    *last* entry: the one our own proxy appended. Earlier entries are whatever the client sent,
    so trusting them would let anyone pick a fresh address for every request. Without the
    setting, or when the header is missing or its last entry is not an address, it is the
    connection's own address.
    """
    header = settings.AMENDS_CLIENT_IP_HEADER
    if header:
        forwarded = _address(request.headers.get(header, "").split(",")[-1])
        if forwarded:
            return forwarded
    return str(request.META.get("REMOTE_ADDR", ""))


class RefusalWithoutTraceback(logging.Filter):
    """Django logs a refused request (PermissionDenied: a role that may not) with the whole
    traceback, as if it were a failure. It is the access control working: keep its one line
    ("Forbidden (Permission denied): /notices/new/"), with the reason instead of the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        refused = record.exc_info[1] if record.exc_info else None
        if isinstance(refused, PermissionDenied):
            reason = str(refused).replace("%", "%%")
            record.msg = f"{record.msg} ({reason})" if reason else record.msg
            record.exc_info = record.exc_text = None
        return True
