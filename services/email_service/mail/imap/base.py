"""Session base for the IMAP adapter: lifecycle (close/drop on error) and capabilities."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from imapclient import IMAPClient

from email_service.core.deadline import Deadline, watching
from email_service.mail.imap.conn import RawChannel, guard
from email_service.mail.imap.types import ImapConnectionError


@dataclass(frozen=True)
class CommandLimit:
    """How long one command may take: `seconds`, plus a second per `bytes_per_second` received."""

    seconds: float = 60
    bytes_per_second: int = 16384

    def paying(self, budget: Deadline) -> Callable[[int], None]:
        """What the reader calls with each chunk's size: honest progress buys time."""
        rate = float(self.bytes_per_second)
        return lambda size: budget.extend(size / rate)


def _advertised(capability: str) -> property:
    """A flag that is true when the server's CAPABILITY lists `capability`."""
    return property(lambda self: capability in self._caps, doc=f"The server advertises {capability}.")


class SessionBase:
    """A logged-in IMAP connection; any connection error drops it for good (reconnect to retry)."""

    def __init__(
        self, client: IMAPClient, limit: CommandLimit | None = None, on_end: Callable[[], None] | None = None
    ) -> None:
        self._client = client
        self._on_end = on_end  # called once when the session ends, however it ends
        self._raw = RawChannel(client._imap)
        self._limit = limit or CommandLimit()
        self._dead = False
        with self._op("CAPABILITY/ENABLE"):
            self._caps = self._read_capabilities()
            self._enabled = self._enable()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._drop()

    def close(self) -> None:
        """LOGOUT politely; fall back to closing the socket."""
        if self._dead:
            return
        self._dead = True
        try:
            self._client.logout()
        except Exception:
            with suppress(Exception):
                self._client.shutdown()
        finally:
            self._ended()

    def _drop(self) -> None:
        if not self._dead:
            self._dead = True
            try:
                with suppress(Exception):
                    self._client.shutdown()
            finally:
                self._ended()

    def _ended(self) -> None:
        end, self._on_end = self._on_end, None
        if end is not None:
            end()

    @contextmanager
    def _op(self, what: str, sending: int = 0) -> Iterator[None]:
        """One command: connection errors drop the session; the command's time is bounded (socket
        timeouts bound each read only, and a server can trickle a byte per read for ever).
        `sending` is the size of what the command uploads (APPEND): it earns its time up front."""
        if self._dead:
            raise ImapConnectionError("IMAP session is closed")
        budget: Deadline | None = None
        try:
            seconds = self._limit.seconds + sending / self._limit.bytes_per_second
            with watching(self._client._imap.sock, seconds) as budget, guard(what):
                self._raw.progress = self._limit.paying(budget)
                yield
        except ImapConnectionError as exc:
            self._drop()
            if budget is not None and budget.expired:
                raise ImapConnectionError(f"{what}: the server took longer than allowed; gave up") from exc
            raise
        finally:
            self._raw.progress = None

    # -- capabilities ------------------------------------------------------------------------

    def _read_capabilities(self) -> frozenset[str]:
        caps: set[str] = set()
        for resp in self._raw.run(b"CAPABILITY"):
            if resp.head.upper().startswith(b"* CAPABILITY "):
                caps.update(resp.head[13:].decode("ascii", "replace").upper().split())
        return frozenset(caps)

    def _enable(self) -> frozenset[str]:
        wanted = [c for c in ("CONDSTORE", "QRESYNC") if c in self._caps]
        if not wanted or "ENABLE" not in self._caps:
            return frozenset()
        enabled: set[str] = set()
        for resp in self._raw.run(b"ENABLE " + " ".join(wanted).encode()):
            if resp.head.upper().startswith(b"* ENABLED"):
                enabled.update(resp.head[9:].decode("ascii").upper().split())
        return frozenset(enabled)

    @property
    def capabilities(self) -> frozenset[str]:
        return self._caps

    @property
    def condstore(self) -> bool:
        return "CONDSTORE" in self._enabled or "QRESYNC" in self._enabled

    @property
    def qresync(self) -> bool:
        return "QRESYNC" in self._enabled

    move_supported = _advertised("MOVE")
    uidplus = _advertised("UIDPLUS")
    special_use = _advertised("SPECIAL-USE")
    esearch = _advertised("ESEARCH")
    gmail_ext = _advertised("X-GM-EXT-1")
