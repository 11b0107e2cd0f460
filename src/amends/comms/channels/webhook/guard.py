"""The SSRF guard: a webhook URL comes from a subscriber, so it must not be able to make us
call our own network (admin ports, cloud metadata at 169.254.169.254, the database).

The host is resolved once, every address it resolves to is checked, and the request then goes
to the checked address itself (with the original Host header and TLS server name): a DNS answer
that changes between the check and the connection (rebinding) cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(ValueError):
    """The URL is not one we will call; it never will be (a permanent failure)."""


@dataclass(frozen=True)
class Target:
    url: str  # the URL with the checked address in place of the host name
    headers: dict[str, str]
    extensions: dict[str, str] = field(default_factory=dict)


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of ``host``; raises OSError when it does not resolve (maybe later)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def checked_target(url: str, *, allow_private: bool) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(parts.hostname, port)
    refused = [a for a in addresses if not is_public(a)]
    if refused and not allow_private:
        raise RefusedTarget(f"{parts.hostname} resolves to non-public address {refused[0]}")
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    userinfo, at, host_and_port = parts.netloc.rpartition("@")
    pinned = urlunsplit(parts._replace(netloc=f"{userinfo}{at}{literal}:{port}"))
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return Target(url=pinned, headers={"Host": host_and_port}, extensions=extensions)
