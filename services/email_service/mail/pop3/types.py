"""Plain values and errors of the POP3 adapter.

The errors subclass the IMAP adapter's so that callers (sync status, connection test, task retry
policy) treat both protocols alike: auth and host refusals are permanent, connection errors transient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from email_service.mail.imap.types import (
    ImapAuthError,
    ImapCommandError,
    ImapConnectionError,
    ImapError,
    ImapHostRefused,
    ImapTlsError,
)

Security = Literal["ssl", "starttls", "none"]


class Pop3Error(ImapError):
    """Base of every error raised by the POP3 adapter."""


class Pop3AuthError(Pop3Error, ImapAuthError):
    """USER/PASS refused: permanent, do not retry."""


class Pop3HostRefused(Pop3AuthError, ImapHostRefused):
    """The host resolves to an address the outbound policy refuses."""


class Pop3ConnectionError(Pop3Error, ImapConnectionError):
    """Socket, timeout, TLS or EOF: transient, a retry may succeed."""


class Pop3TlsError(Pop3ConnectionError, ImapTlsError):
    """The server's certificate failed verification or did not match the pinned one."""


class Pop3CommandError(Pop3Error, ImapCommandError):
    """The server answered -ERR to a command (or lacks UIDL)."""


@dataclass(frozen=True)
class Pop3Settings:
    """How to reach and log in to one POP3 account."""

    host: str
    port: int
    security: Security
    username: str
    password: str
    timeout: float = 60  # connect, TLS and login together
    command_timeout: float = 60  # each command, plus a second per min_bytes_per_second received
    min_bytes_per_second: int = 16384
    verify_cert: bool = True
    pinned_cert_pem: str | None = None
    allowed_private_hosts: tuple[str, ...] | None = None

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return (
            f"Pop3Settings(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r})"
        )
