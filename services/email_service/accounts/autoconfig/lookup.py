"""The autoconfig order: the shipped table, then RFC 6186/8314 SRV records, then an MX match.

All DNS queries of one autoconfig run at once in threads, each bounded by dns.LOOKUP_SECONDS, and the
whole within TOTAL_SECONDS: a silent DNS server costs one lookup's time, not the sum.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from typing import Any, Literal

from email_service.accounts.autoconfig import dns
from email_service.accounts.autoconfig.providers import Endpoint, Provider, Security, by_domain, by_mx
from email_service.core.errors import NotFound, ServiceUnavailable, ValidationFailed

Source = Literal["table", "srv", "mx"]
TOTAL_SECONDS = 6.0
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# (service label, security) in order of preference; RFC 8314 prefers implicit TLS.
Services = tuple[tuple[str, Security], ...]
IMAP_SERVICES: Services = (("_imaps._tcp", "ssl"), ("_imap._tcp", "starttls"))
SMTP_SERVICES: Services = (("_submissions._tcp", "ssl"), ("_submission._tcp", "starttls"))
POP3_SERVICES: Services = (("_pop3s._tcp", "ssl"),)


@dataclass(frozen=True)
class Autoconfig:
    provider: str
    imap: Endpoint
    smtp: Endpoint
    pop3: Endpoint | None
    auth_types: tuple[str, ...]
    provider_saves_sent: bool
    source: Source
    quirks: tuple[str, ...] = ()

    def view(self) -> dict[str, Any]:
        def endpoint(e: Endpoint) -> dict[str, Any]:
            return {"host": e.host, "port": e.port, "security": e.security}

        body: dict[str, Any] = {
            "provider": self.provider,
            "imap": endpoint(self.imap),
            "smtp": endpoint(self.smtp),
            "auth_types": list(self.auth_types),
            "provider_saves_sent": self.provider_saves_sent,
            "source": self.source,
            "quirks": list(self.quirks),
            "pop3": endpoint(self.pop3) if self.pop3 is not None else None,
        }
        return body


def email_domain(email: object) -> str:
    """The address's domain as lower-case ASCII (IDNA); ValidationFailed (422) for anything else."""
    if not isinstance(email, str) or not 3 <= len(email) <= 320 or email.count("@") != 1:
        raise _bad_email()
    local, _, domain = email.partition("@")
    if not local or any(c.isspace() or ord(c) < 32 for c in email):
        raise _bad_email()
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _bad_email() from None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise _bad_email()
    return ascii_domain


def _bad_email() -> ValidationFailed:
    message = "email must be an address like name@example.com"
    return ValidationFailed(
        message, {"fields": [{"field": "email", "message": message, "type": "value_error"}]}
    )


def from_provider(provider: Provider, source: Source) -> Autoconfig:
    return Autoconfig(
        provider=provider.name,
        imap=provider.imap,
        smtp=provider.smtp,
        pop3=provider.pop3,
        auth_types=provider.auth_types,
        provider_saves_sent=provider.provider_saves_sent,
        source=source,
        quirks=provider.quirks,
    )


def is_host_name(target: str) -> bool:
    """A target we may store as a host: ASCII letters, digits and hyphens in labels (DNS allows any byte,
    which dnspython shows escaped; such a name is refused rather than stored)."""
    name = target.rstrip(".").lower()
    labels = name.split(".")
    return 0 < len(name) <= 253 and len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def pick_srv(records: tuple[dns.SrvRecord, ...]) -> dns.SrvRecord | None:
    """The most preferred usable record: lowest priority, then highest weight (deterministic, not
    RFC 2782's weighted draw); a target of "." means "no service" (RFC 2782), port 0 and targets that
    are not plain host names are unusable."""
    usable = [r for r in records if r.port > 0 and is_host_name(r.target)]
    usable.sort(key=lambda r: (r.priority, -r.weight, r.target))
    return usable[0] if usable else None


def srv_endpoint(services: Services, answers: dict[str, dns.Lookup]) -> Endpoint | None:
    for label, security in services:
        record = pick_srv(answers[label].srv)
        if record is not None:
            return Endpoint(record.target.rstrip(".").lower(), record.port, security)
    return None


def mx_hosts(answer: dns.Lookup) -> list[str]:
    return [host for _, host in sorted(answer.mx, key=lambda m: (m[0], m[1]))]


def autoconfig(email: object, nameservers: tuple[str, ...]) -> Autoconfig:
    """The settings for an address: NotFound (404) when nothing knows the domain, ServiceUnavailable
    (503) when DNS timed out or failed and nothing else answered, ValidationFailed (422) for a bad address."""
    domain = email_domain(email)
    provider = by_domain(domain)
    if provider is not None:
        return from_provider(provider, "table")
    answers = _query_all(domain, nameservers)
    imap = srv_endpoint(IMAP_SERVICES, answers)
    smtp = srv_endpoint(SMTP_SERVICES, answers)
    if imap is not None and smtp is not None:
        pop3 = srv_endpoint(POP3_SERVICES, answers)
        return Autoconfig(domain, imap, smtp, pop3, ("password",), False, "srv")
    provider = by_mx(mx_hosts(answers["MX"]))
    if provider is not None:
        return from_provider(provider, "mx")
    if any(a.outcome in ("timeout", "failed") for a in answers.values()):
        raise ServiceUnavailable(f"DNS did not answer for {domain}: try again shortly")
    raise NotFound(f"no settings known for {domain}", {"domain": domain})


def _query_all(domain: str, nameservers: tuple[str, ...]) -> dict[str, dns.Lookup]:
    names = [label for label, _ in (*IMAP_SERVICES, *SMTP_SERVICES, *POP3_SERVICES)]
    deadline = time.monotonic() + TOTAL_SECONDS
    pool = ThreadPoolExecutor(max_workers=len(names) + 1, thread_name_prefix="autoconfig-dns")
    try:
        futures = {
            n: pool.submit(dns.lookup, f"{n}.{domain}", "SRV", nameservers, dns.LOOKUP_SECONDS) for n in names
        }
        futures["MX"] = pool.submit(dns.lookup, domain, "MX", nameservers, dns.LOOKUP_SECONDS)
        answers: dict[str, dns.Lookup] = {}
        for key, future in futures.items():
            try:
                answers[key] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FuturesTimeout:
                answers[key] = dns.Lookup("timeout")
        return answers
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
