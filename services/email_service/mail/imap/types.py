"""Plain values and errors returned by the IMAP adapter, so callers never see imapclient objects."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Security = Literal["ssl", "starttls", "none"]


class ImapError(Exception):
    """Base of every error raised by the IMAP adapter."""


class ImapAuthError(ImapError):
    """The server refused the credentials: permanent, do not retry."""


class ImapConnectionError(ImapError):
    """Socket, timeout, TLS or BYE: transient, the session is dropped and a retry may succeed."""


class ImapThrottled(ImapConnectionError):
    """The provider asked to slow down (mail/imap/throttle.py): retry after `retry_after` seconds when
    it named a wait, else after the task's own backoff; never a reason to park the account."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ImapTlsError(ImapConnectionError):
    """The server's certificate failed verification or did not match the pinned one."""


class ImapHostRefused(ImapAuthError):
    """The host resolves to an address the outbound policy refuses: permanent, the account must change."""


class ImapCommandError(ImapError):
    """The server answered NO/BAD, or the command needs a capability the server lacks."""


@dataclass(frozen=True)
class ImapSettings:
    """How to reach and log in to one IMAP account."""

    host: str
    port: int
    security: Security
    username: str
    password: str
    timeout: float = 60  # connect, TLS and login together
    # Each command after login: this many seconds, plus one more per min_bytes_per_second received,
    # so an honest large FETCH always finishes and a server trickling bytes is cut off.
    command_timeout: float = 60
    min_bytes_per_second: int = 16384
    verify_cert: bool = True
    pinned_cert_pem: str | None = None
    # Outbound policy allow-list for tenant-controlled hosts; None = operator-set host, no policy.
    allowed_private_hosts: tuple[str, ...] | None = None
    # An OAuth2 access token: login by OAUTHBEARER or XOAUTH2 instead of the password (then "").
    access_token: str | None = None
    # Entered before the socket opens and left when the session ends: the caller's cap on
    # connections per mailbox (accounts/connection_cap.py); None = no cap.
    slot: Callable[[], AbstractContextManager[object]] | None = field(default=None, compare=False)

    def __repr__(self) -> str:  # keep the password and token out of logs and tracebacks
        return (
            f"ImapSettings(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r})"
        )


@dataclass(frozen=True)
class FolderInfo:
    """One selectable folder; role is inbox/sent/trash/junk/drafts/archive or None."""

    name: str
    delimiter: str | None
    flags: tuple[str, ...]
    role: str | None


@dataclass(frozen=True)
class SelectInfo:
    """The folder state a sync engine compares with its checkpoint."""

    uidvalidity: int
    uidnext: int
    highestmodseq: int | None
    exists: int


@dataclass(frozen=True)
class FolderStatus:
    """STATUS counters for a folder that need not be selected."""

    messages: int
    unseen: int
    uidvalidity: int
    uidnext: int
    highestmodseq: int | None


@dataclass(frozen=True)
class FetchedMessage:
    """A full message as FETCHed with BODY.PEEK[] (so \\Seen is never set by the fetch)."""

    uid: int
    flags: tuple[str, ...]
    modseq: int | None
    internaldate: datetime | None
    size: int
    raw: bytes
    # Gmail's conversation id (X-GM-THRID), fetched only when the server advertises X-GM-EXT-1.
    gm_thread_id: str | None = None
    # Gmail's stable message id (X-GM-MSGID: the same in every folder, across UIDVALIDITY changes).
    gm_msgid: str | None = None
    # Gmail's labels (X-GM-LABELS), decoded from modified UTF-7; empty elsewhere.
    gm_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlagUpdate:
    """Current flags of one message, e.g. from FETCH (FLAGS) CHANGEDSINCE."""

    uid: int
    flags: tuple[str, ...]
    modseq: int | None
    # Gmail's labels when they were fetched with the flags (X-GM-EXT-1); None: not asked, keep them.
    gm_labels: tuple[str, ...] | None = None


@dataclass(frozen=True)
class QresyncResult:
    """SELECT ... (QRESYNC ...) outcome: folder state, expunged UIDs and changed flags since modseq."""

    info: SelectInfo
    vanished: list[int]
    changed: list[FlagUpdate]
