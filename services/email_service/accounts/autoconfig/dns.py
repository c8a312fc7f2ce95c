"""Bounded SRV and MX lookups with dnspython. Answers are data only: nothing here connects to a target.

Every lookup has a lifetime; a lookup that times out or fails (SERVFAIL, garbage, refused) is reported
as such, never raised, so a hostile domain or DNS server cannot turn into a 500. No cache is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from email_service.core.config import parse_nameserver

Outcome = Literal["answer", "none", "timeout", "failed"]
LOOKUP_SECONDS = 3.0
MAX_RECORDS = 32  # more records than this in one answer are ignored


@dataclass(frozen=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    srv: tuple[SrvRecord, ...] = ()
    mx: tuple[tuple[int, str], ...] = ()


def _resolver(nameservers: tuple[str, ...], lifetime: float) -> dns.resolver.Resolver:
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns.nameserver.Do53Nameserver(*parse_nameserver(ns)) for ns in nameservers]
    else:
        resolver = dns.resolver.Resolver()
    resolver.cache = None
    resolver.lifetime = lifetime
    resolver.timeout = lifetime
    return resolver


def lookup(name: str, rdtype: Literal["SRV", "MX"], nameservers: tuple[str, ...], lifetime: float) -> Lookup:
    """One query within `lifetime` seconds (at most LOOKUP_SECONDS)."""
    seconds = max(0.05, min(lifetime, LOOKUP_SECONDS))
    try:
        answer = _resolver(nameservers, seconds).resolve(
            name, dns.rdatatype.from_text(rdtype), lifetime=seconds, search=False
        )
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return Lookup("none")
    except dns.exception.Timeout:
        return Lookup("timeout")
    except (dns.exception.DNSException, OSError, ValueError):
        return Lookup("failed")
    records = list(answer)[:MAX_RECORDS]
    if rdtype == "SRV":
        srv = tuple(
            SrvRecord(int(r.priority), int(r.weight), int(r.port), r.target.to_text()) for r in records
        )
        return Lookup("answer", srv=srv)
    return Lookup("answer", mx=tuple((int(r.preference), r.exchange.to_text()) for r in records))
