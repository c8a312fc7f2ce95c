"""SMTP adapter types: settings, results and the retry-oriented error classes.

translate_error sorts whatever aiosmtplib, the socket or TLS raised (SMTP_FAILURES) into transient
(retry), permanent (do not) and uncertain (the body went out, no final reply: a resend could duplicate,
so it is no kind of transient error). Any other exception inside the adapter is a bug: it is not
translated and reaches the caller as it is.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import aiosmtplib

from email_service.core import net_policy


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach and log in to one SMTP submission server."""

    host: str
    port: int
    security: Literal["ssl", "starttls", "none"]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    # Connect + TLS + login together; then the envelope (MAIL, RCPT*, DATA) together; then the reply
    # to the body, which also gets a second per min_bytes_per_second of the message (its upload).
    timeout: float = 60.0
    min_bytes_per_second: int = 16384
    verify_cert: bool = True
    pinned_cert_pem: str | None = None
    # Outbound policy allow-list for tenant-controlled hosts; None = operator-set host, no policy.
    allowed_private_hosts: tuple[str, ...] | None = None
    # An OAuth2 access token: AUTH OAUTHBEARER or XOAUTH2 as `username` instead of the password.
    access_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SendResult:
    """Outcome of one accepted transaction; `refused` holds per-recipient (code, reply)."""

    accepted: tuple[str, ...]
    refused: dict[str, tuple[int, str]]
    reply: str


class SmtpError(Exception):
    """Base SMTP failure; `code` is the server's reply code when there was one."""

    def __init__(
        self,
        message: str,
        code: int | None = None,
        server_reply: str = "",
        refused: dict[str, tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.server_reply = server_reply
        self.refused: dict[str, tuple[int, str]] = dict(refused or {})


class SmtpTransientError(SmtpError):
    """Worth retrying later: 4xx, 421, refused/reset connections, timeouts."""


class SmtpPermanentError(SmtpError):
    """Retrying cannot help: 5xx, every recipient refused, unsupported extension."""


class SmtpAuthError(SmtpPermanentError):
    """The server rejected the credentials."""


class SmtpTlsError(SmtpPermanentError):
    """The server's certificate failed verification (or did not match the pinned one)."""


class SmtpHostRefused(SmtpPermanentError):
    """The host resolves to an address the outbound policy refuses; the account must change."""


class SmtpUncertainError(SmtpError):
    """The connection died after the body was sent: the message may have been delivered.

    Deliberately not a SmtpTransientError: whoever retries transient errors must never resend this.
    """


# What the network, TLS and aiosmtplib raise for a failed conversation (ssl.SSLError is an OSError).
SMTP_FAILURES: tuple[type[BaseException], ...] = (
    aiosmtplib.SMTPException,
    OSError,
    TimeoutError,
    net_policy.HostNotAllowed,
)


def _cause_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _by_code(code: int, reply: str, message: str) -> SmtpError:
    kind = SmtpPermanentError if 500 <= code < 600 else SmtpTransientError
    return kind(f"{message}: {code} {reply}", code, reply)


def translate_error(exc: BaseException) -> SmtpError:
    """Map one of SMTP_FAILURES onto the retry-oriented SmtpError hierarchy (anything else: TypeError)."""
    if isinstance(exc, SmtpError):
        return exc
    if not isinstance(exc, SMTP_FAILURES):
        raise TypeError(f"not an SMTP failure, a bug: {exc!r}") from exc
    if isinstance(exc, net_policy.HostNotAllowed):
        return SmtpHostRefused(f"smtp_host {exc}")
    cert_error = next((e for e in _cause_chain(exc) if isinstance(e, ssl.SSLCertVerificationError)), None)
    if cert_error is not None:
        return SmtpTlsError(
            f"TLS certificate refused ({cert_error.verify_message}); "
            "pin the certificate on the account to trust it"
        )
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        if 400 <= exc.code < 500:
            return SmtpTransientError(f"authentication deferred: {exc.message}", exc.code, exc.message)
        return SmtpAuthError(f"authentication failed: {exc.message}", exc.code, exc.message)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _by_code(exc.code, exc.message, type(exc).__name__)
    if isinstance(exc, (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError)):
        return SmtpTransientError(f"connection failed: {exc}")
    if isinstance(exc, (aiosmtplib.SMTPTimeoutError, TimeoutError)):
        return SmtpTransientError(f"timed out: {exc}")
    if isinstance(exc, aiosmtplib.SMTPNotSupported) or type(exc) is aiosmtplib.SMTPException:
        return SmtpPermanentError(f"server lacks a required feature: {exc}")
    # Another aiosmtplib refusal outside the reply-code family: retrying the same input cannot help.
    return SmtpPermanentError(f"SMTP failure: {exc}")
