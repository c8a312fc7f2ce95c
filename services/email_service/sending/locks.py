"""Locks that tell a live send from a dead one: held by a live process, freed when it dies.

Two locks per outbox row, both held so that a worker that dies frees them:
- the *run* lock: held by the send_email task of that very row for its whole run. Held by someone
  else means a duplicate delivery of the same task is running right now.
- the *send* lock: held by whoever has (or is about to) put the row in 'sending' and has not yet
  committed the outcome — the row's own task or a batch led by a sibling task. A run holding it
  that still finds 'sending' knows the earlier sender died; one that cannot get it waits.
On PostgreSQL they are session advisory locks on one dedicated connection. On SQLite (the embedded
default: every worker on this one machine) they are flock()s on one file per lock beside the
database, which the kernel also releases when the process dies; the semantics are the same.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from email_service.core.db import get_engine

_UNSIGNED = 1 << 64
LOCK_NOT_AVAILABLE = "55P03"


def lock_key(outbox_id: str) -> int:
    """The row's send lock: a stable signed 64-bit key."""
    return int.from_bytes(hashlib.blake2b(outbox_id.encode(), digest_size=8).digest(), "big", signed=True)


def run_key(outbox_id: str) -> int:
    """The row's run lock, in its own key space (a different hash input)."""
    return lock_key("run:" + outbox_id)


class SendLocks(Protocol):
    """The locks of one task run."""

    @property
    def batching(self) -> bool: ...
    def try_run(self, outbox_id: str) -> bool: ...
    def wait_send(self, outbox_id: str, timeout: float) -> bool: ...
    def try_send_many(self, outbox_ids: Iterable[str]) -> set[str]: ...
    def release_send(self, outbox_ids: Iterable[str]) -> None: ...
    def running(self, outbox_ids: Iterable[str]) -> set[str]: ...


class PgSendLocks:
    """Session advisory locks on one connection of the run's own."""

    batching = True

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def try_run(self, outbox_id: str) -> bool:
        return self._try([run_key(outbox_id)]) == {run_key(outbox_id)}

    def wait_send(self, outbox_id: str, timeout: float) -> bool:
        """Block until the send lock is ours (a live batch finishes) or `timeout` seconds pass."""
        try:
            self.conn.execute(text(f"SET LOCAL lock_timeout = {int(timeout * 1000)}"))
            self.conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(outbox_id)})
            self.conn.commit()
        except OperationalError as exc:
            self.conn.rollback()
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                return False  # lock_timeout: the holder is still sending
            raise
        return True

    def try_send_many(self, outbox_ids: Iterable[str]) -> set[str]:
        """The ids whose send lock we got without waiting (a batch takes only free rows)."""
        keys = {lock_key(i): i for i in outbox_ids}
        return {keys[k] for k in self._try(list(keys))}

    def release_send(self, outbox_ids: Iterable[str]) -> None:
        keys = [lock_key(i) for i in outbox_ids]
        if not keys:
            return
        sql = "SELECT pg_advisory_unlock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"
        self.conn.execute(text(sql), {"keys": keys})
        self.conn.commit()

    def running(self, outbox_ids: Iterable[str]) -> set[str]:
        """Rows whose own task is running now (a batch leaves them to it rather than make it wait)."""
        wanted = {run_key(i) % _UNSIGNED: i for i in outbox_ids}
        sql = (
            "SELECT classid::bigint, objid::bigint FROM pg_locks WHERE locktype = 'advisory'"
            " AND objsubid = 1 AND granted AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())"
        )
        held = {(high << 32) | low for high, low in self.conn.execute(text(sql))}
        self.conn.commit()
        return {wanted[k] for k in held if k in wanted}

    def _try(self, keys: list[int]) -> set[int]:
        if not keys:
            return set()
        sql = "SELECT k, pg_try_advisory_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"
        got = {k for k, ok in self.conn.execute(text(sql), {"keys": keys}) if ok}
        self.conn.commit()
        return got


class FileSendLocks:
    """flock() on a file per lock key: exclusive across the processes of this machine.

    Like an advisory lock held twice in one session, a key this run already holds is granted again.
    The files stay (empty); removing one while another process waits on it would split the lock.
    """

    batching = True
    POLL_SECONDS = 0.05

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.held: dict[int, int] = {}  # lock key -> open file descriptor holding the flock

    def try_run(self, outbox_id: str) -> bool:
        return self._take(run_key(outbox_id))

    def wait_send(self, outbox_id: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._take(lock_key(outbox_id)):
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.POLL_SECONDS)
        return True

    def try_send_many(self, outbox_ids: Iterable[str]) -> set[str]:
        return {i for i in outbox_ids if self._take(lock_key(i))}

    def release_send(self, outbox_ids: Iterable[str]) -> None:
        for outbox_id in outbox_ids:
            fd = self.held.pop(lock_key(outbox_id), None)
            if fd is not None:
                os.close(fd)  # closing the only descriptor releases the flock

    def running(self, outbox_ids: Iterable[str]) -> set[str]:
        """Rows whose run lock another process holds (probed with a lock taken and given back)."""
        busy = set()
        for outbox_id in outbox_ids:
            key = run_key(outbox_id)
            if key in self.held:
                continue
            if self._take(key):
                os.close(self.held.pop(key))
            else:
                busy.add(outbox_id)
        return busy

    def release_all(self) -> None:
        for fd in self.held.values():
            os.close(fd)
        self.held.clear()

    def _take(self, key: int) -> bool:
        if key in self.held:
            return True
        fd = os.open(self.directory / f"{key % _UNSIGNED:016x}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.held[key] = fd
        return True


def file_lock_directory(database_url: str) -> Path:
    """Beside the SQLite database file, so every process using that database shares the locks."""
    database = make_url(database_url).database
    if not database or database == ":memory:":
        return Path(tempfile.gettempdir()) / f"email-service-send-locks-{os.getuid()}"
    return Path(os.path.abspath(database) + ".send-locks")


@contextmanager
def send_locks() -> Iterator[SendLocks]:
    """The locks of one run; every lock it took is released (or its connection dropped)."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        files = FileSendLocks(file_lock_directory(str(engine.url)))
        try:
            yield files
        finally:
            files.release_all()
        return
    with engine.connect() as conn:
        try:
            yield PgSendLocks(conn)
        finally:
            try:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock_all()"))
                conn.commit()
            except Exception:
                conn.invalidate()  # never pool a connection that may still hold locks
                raise


@contextmanager
def exclusive_run(outbox_id: str) -> Iterator[bool]:
    """True when no other live run holds this row: both its run and its send lock are ours."""
    with send_locks() as locks:
        yield locks.try_run(outbox_id) and locks.try_send_many([outbox_id]) == {outbox_id}
