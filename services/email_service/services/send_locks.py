"""PostgreSQL session advisory locks that tell a live send from a dead one.

Two locks per outbox row, both held on one dedicated connection so a worker that dies frees them:
- the *run* lock: held by the send_email task of that very row for its whole run. Held by someone
  else means a duplicate delivery of the same task is running right now.
- the *send* lock: held by whoever has (or is about to) put the row in 'sending' and has not yet
  committed the outcome — the row's own task or a batch led by a sibling task. A run holding it
  that still finds 'sending' knows the earlier sender died; one that cannot get it waits.
On SQLite there is one writer at a time and no batching: every lock is granted at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from email_service.db import get_engine

_UNSIGNED = 1 << 64
LOCK_NOT_AVAILABLE = "55P03"


def lock_key(outbox_id: str) -> int:
    """The row's send lock: a stable signed 64-bit key."""
    return int.from_bytes(hashlib.blake2b(outbox_id.encode(), digest_size=8).digest(), "big", signed=True)


def run_key(outbox_id: str) -> int:
    """The row's run lock, in its own key space (a different hash input)."""
    return lock_key("run:" + outbox_id)


class SendLocks:
    """The locks of one task run; `conn` is None on SQLite (everything granted, no batching)."""

    def __init__(self, conn: Connection | None) -> None:
        self.conn = conn

    @property
    def batching(self) -> bool:
        return self.conn is not None

    def try_run(self, outbox_id: str) -> bool:
        return self._try([run_key(outbox_id)]) == {run_key(outbox_id)}

    def wait_send(self, outbox_id: str, timeout: float) -> bool:
        """Block until the send lock is ours (a live batch finishes) or `timeout` seconds pass."""
        if self.conn is None:
            return True
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
        if self.conn is None or not keys:
            return
        sql = "SELECT pg_advisory_unlock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"
        self.conn.execute(text(sql), {"keys": keys})
        self.conn.commit()

    def running(self, outbox_ids: Iterable[str]) -> set[str]:
        """Rows whose own task is running now (a batch leaves them to it rather than make it wait)."""
        if self.conn is None:
            return set()
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
        if self.conn is None:
            return set(keys)
        if not keys:
            return set()
        sql = "SELECT k, pg_try_advisory_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"
        got = {k for k, ok in self.conn.execute(text(sql), {"keys": keys}) if ok}
        self.conn.commit()
        return got


@contextmanager
def send_locks() -> Iterator[SendLocks]:
    """A lock connection for one run; every lock it took is released (or the connection dropped)."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        yield SendLocks(None)
        return
    with engine.connect() as conn:
        try:
            yield SendLocks(conn)
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
