"""Outbound connection policy for hosts a tenant controls (account IMAP/SMTP servers).

A tenant must not make the service connect to loopback, private, link-local or metadata addresses
(SSRF). The check runs when an account is saved and again on the address the socket really connects
to, so a DNS answer that changes after the first check (rebinding) is caught too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from email_service.core.deadline import bounded_timeout, track_socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class HostNotAllowed(Exception):
    """The host is unresolvable or resolves to an address the policy refuses: permanent."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host!r} {reason}")
        self.host = host
        self.reason = reason


def refusal_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public destination (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks: tuple[tuple[bool, str], ...] = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (any(address in net for net in _PRIVATE if net.version == address.version), "a private address"),
        (address.version == 4 and address in _CGNAT, "a carrier-grade NAT address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved or not address.is_global, "a reserved address"),
    )
    return next((reason for hit, reason in checks if hit), None)


@dataclass(frozen=True)
class AllowList:
    """Operator exceptions: '*', host names, IP addresses and CIDR networks."""

    entries: tuple[str, ...]

    @property
    def allows_everything(self) -> bool:
        return "*" in self.entries

    def allows(self, host: str, address: IPAddress) -> bool:
        name = host.strip("[]").rstrip(".").lower()
        for entry in self.entries:
            if entry == "*" or entry.lower() == name:
                return True
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False


@dataclass(frozen=True)
class Resolved:
    """One stream address of a host: what to pass to socket() and connect(), and the parsed IP."""

    family: socket.AddressFamily
    sockaddr: tuple[Any, ...]
    address: IPAddress


def resolve(host: str, port: int) -> list[Resolved]:
    """All stream addresses of `host`, in resolver order (socket.gaierror when it does not resolve)."""
    found: list[Resolved] = []
    for family, _type, _proto, _name, sockaddr in socket.getaddrinfo(
        host.strip("[]"), port, type=socket.SOCK_STREAM
    ):
        item = Resolved(family, sockaddr, ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
        if item not in found:
            found.append(item)
    return found


def vet(host: str, addresses: Iterable[IPAddress], allow: AllowList) -> None:
    """Refuse the host when any of its addresses is refused (mixed answers are a rebinding trick)."""
    for address in addresses:
        reason = refusal_reason(address)
        if reason is not None and not allow.allows(host, address):
            raise HostNotAllowed(host, f"resolves to {address}, {reason}, which is not allowed")


def check_host(host: str, port: int, allow: AllowList) -> None:
    """Save-time check: resolve and vet (nothing to do when the operator allows every host)."""
    if allow.allows_everything:
        return
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise HostNotAllowed(host, f"cannot be resolved ({exc})") from None
    vet(host, (item.address for item in found), allow)


def connect(host: str, port: int, timeout: float, allowed: Sequence[str] | None) -> socket.socket:
    """Connect to a vetted address of `host`; `allowed` None means an operator-set host (no policy)."""
    found = resolve(host, port)
    if allowed is not None:
        vet(host, (item.address for item in found), AllowList(tuple(allowed)))
    last_error: OSError | None = None
    for item in found:
        sock = socket.socket(item.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(bounded_timeout(timeout))  # a whole-operation deadline caps every wait
            sock.connect(item.sockaddr)
            track_socket(sock)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        return sock
    raise last_error or OSError(f"no address to connect to for {host!r}")
