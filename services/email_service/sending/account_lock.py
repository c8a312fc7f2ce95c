"""The account's send lock: at most one live drainer per account, freed when its process dies.

A row found in 'sending' by the holder of this lock was left by a drainer that died mid-send (a live
one would still hold the lock), so it is resolved from the Sent folder or marked 'uncertain', never
resent. On PostgreSQL it is a session advisory lock on a connection of the run's own; on SQLite (the
embedded default: every worker on this one machine) an flock() on a file per account beside the
database, which the kernel also releases when the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from email_service.core.db import get_engine

_UNSIGNED = 1 << 64
LOCK_NOT_AVAILABLE = "55P03"


def lock_key(account_id: str, space: str = "send-account") -> int:
    """A stable signed 64-bit key per account (or other id), in a key space of its own."""
    digest = hashlib.blake2b(f"{space}:{account_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AccountLock(Protocol):
    def acquire(self, timeout: float = 0.0) -> bool:
        """True once held; waits up to `timeout` seconds for a live holder to finish (0: no wait)."""
        ...


class PgAccountLock:
    def __init__(self, conn: Connection, key: int) -> None:
        self.conn, self.key = conn, key

    def acquire(self, timeout: float = 0.0) -> bool:
        if timeout <= 0:
            got = bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            self.conn.commit()
            return got
        try:
            self.conn.execute(text(f"SET LOCAL lock_timeout = {int(timeout * 1000)}"))
            self.conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
            self.conn.commit()
        except OperationalError as exc:
            self.conn.rollback()
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                return False  # lock_timeout: the holder is still draining
            raise
        return True


class FileAccountLock:
    """flock() on one file per account; the files stay (removing one a process waits on splits it)."""

    POLL_SECONDS = 0.05

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fd: int | None = None

    def acquire(self, timeout: float = 0.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self._take():
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.POLL_SECONDS)
        return True

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the only descriptor releases the flock
            self.fd = None

    def _take(self) -> bool:
        if self.fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True


def file_lock_directory(database_url: str) -> Path:
    """Beside the SQLite database file, so every process using that database shares the locks."""
    database = make_url(database_url).database
    if not database or database == ":memory:":
        return Path(tempfile.gettempdir()) / f"email-service-send-locks-{os.getuid()}"
    return Path(os.path.abspath(database) + ".send-locks")


def account_send_lock(account_id: str) -> AbstractContextManager[AccountLock]:
    """The account's lock for one run; released on exit (or with its connection) if it was taken."""
    return held_lock(lock_key(account_id))


def draft_lock(draft_id: str) -> AbstractContextManager[AccountLock]:
    """One write-back of a draft at a time: an APPEND and a removal of the same draft never interleave."""
    return held_lock(lock_key(draft_id, "draft"))


@contextmanager
def held_lock(key: int) -> Iterator[AccountLock]:
    """A process-bound lock on `key` (advisory on PostgreSQL, flock on SQLite), released on exit."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        lock = FileAccountLock(file_lock_directory(str(engine.url)) / f"{key % _UNSIGNED:016x}.lock")
        try:
            yield lock
        finally:
            lock.release()
        return
    with engine.connect() as conn:
        try:
            yield PgAccountLock(conn, key)
        finally:
            try:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock_all()"))
                conn.commit()
            except Exception:
                conn.invalidate()  # never pool a connection that may still hold the lock
                raise
