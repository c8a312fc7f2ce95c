"""POST one signed event to a tenant's URL through the outbound policy, bounded in time and bytes.

The socket comes from net_policy.connect (the name is resolved and the address vetted at connect
time, so a DNS answer changed since registration is refused too); the whole exchange runs under one
deadline, so a receiver that accepts and never answers, or drips a byte at a time, holds a worker no
longer than the timeout. At most MAX_BODY bytes of the answer are read.
"""

from __future__ import annotations

import http.client
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from email_service.core import net_policy
from email_service.core.deadline import deadline

MAX_BODY = 4096
USER_AGENT = "email_service-webhooks/1"


class UrlRefused(ValueError):
    """Not an http(s) URL with a host, or a host the outbound policy refuses."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse_url(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UrlRefused("url must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise UrlRefused("url must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UrlRefused("url has an invalid port") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path)


def check_url(url: str, allowed: tuple[str, ...]) -> None:
    """Registration-time check: https (plain http only to a host the operator allows), policy-clean host."""
    target = parse_url(url)
    allow = net_policy.AllowList(allowed)
    named = target.host.lower() in (entry.lower() for entry in allowed)
    if target.scheme == "http" and not (allow.allows_everything or named):
        raise UrlRefused("url must be an https:// URL")
    try:
        net_policy.check_host(target.host, target.port, allow)
    except net_policy.HostNotAllowed as exc:
        raise UrlRefused(f"url host {exc}") from None


class _PolicyConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float, allowed: tuple[str, ...]) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._tls = ssl.create_default_context() if target.scheme == "https" else None
        self._allowed = allowed

    def connect(self) -> None:
        sock = net_policy.connect(self.host, self.port, float(self.timeout or 10), self._allowed)
        self.sock = sock if self._tls is None else self._tls.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, allowed: tuple[str, ...]) -> Outcome:
    """One attempt; never raises for anything the receiver or the network does."""
    started = time.monotonic()

    def done(code: int | None, error: str | None) -> Outcome:
        return Outcome(code, int((time.monotonic() - started) * 1000), error)

    try:
        target = parse_url(url)
    except UrlRefused as exc:
        return done(None, str(exc))
    conn = _PolicyConnection(target, timeout, allowed)
    sent = {
        **headers,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Connection": "close",
    }
    try:
        with deadline(timeout):
            conn.request("POST", target.path, body=body, headers=sent)
            response = conn.getresponse()
            response.read(MAX_BODY)
            return done(response.status, None if 200 <= response.status < 300 else f"HTTP {response.status}")
    except net_policy.HostNotAllowed as exc:
        return done(None, f"refused by the outbound policy: {exc}"[:300])
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return done(None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        conn.close()
