"""Thread assignment at sync time: each inserted message joins (or merges) conversations by Message-ID.

Keys of a message: its own Message-ID, its References and its In-Reply-To (so a reply without
References still joins). Any key already in message_references names a thread; none means a new
thread; several mean this message links conversations that were apart (a child that arrived before
its parent, a reply in Sent synced before INBOX), and they merge into one. A message without any id
is a thread of its own: a subject alone never merges strangers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from email_service.core.model_base import new_id
from email_service.messages.model import Message
from email_service.messages.threads.model import MAX_KEY_CHARS, MessageReference

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
REFERENCES: Table = MessageReference.__table__  # type: ignore[assignment]
# Keys of one account come from one server: Gmail accounts record only these, others never do.
GMAIL_PREFIX = "x-gm-thrid:"
MAX_KEYS = 52  # own id + References (capped at 50 by the parser) + In-Reply-To
LOOKUP_CHUNK = 500  # keys per IN (...): SQLite's bound-parameter limit is far above


def message_keys(row: dict[str, Any]) -> list[str]:
    """The ids a stored row names, own id first, bounded in number and length."""
    keys: list[str] = []
    candidates: Iterable[str | None] = (
        row.get("message_id_header"),
        *(row.get("references") or "").split(),
        row.get("in_reply_to"),
    )
    for key in candidates:
        if key and len(key) <= MAX_KEY_CHARS and key not in keys:
            keys.append(key)
    return keys[:MAX_KEYS]


@dataclass
class ThreadPlan:
    """A batch threaded in memory: each row's thread, the merges it causes and the keys it adds."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)  # per row, final
    merges: dict[str, dict[str, str]] = field(default_factory=dict)  # account -> loser -> winner
    fresh: list[dict[str, Any]] = field(default_factory=list)  # new message_references rows

    def write(self, session: Session, *, rows_stored: bool) -> None:
        """Record merges and new keys; `rows_stored`: the rows were inserted carrying their thread_id."""
        for account_id, winners in self.merges.items():
            _merge(session, account_id, winners)
        if self.fresh:
            session.execute(REFERENCES.insert(), self.fresh)
        if not rows_stored and self.rows:
            session.connection().execute(
                update(MESSAGES)
                .where(MESSAGES.c.id == bindparam("row_id"))
                .values(thread_id=bindparam("thread")),
                [{"row_id": row["id"], "thread": t} for row, t in zip(self.rows, self.threads, strict=True)],
            )


def plan_threads(
    session: Session, rows: list[dict[str, Any]], server_threads: dict[str, str] | None = None
) -> ThreadPlan:
    """Thread rows (in UID order) and set their thread_id, before they are inserted.

    Inserting rows with their thread already set spares an UPDATE of every new row: on PostgreSQL
    that UPDATE wrote each row twice, with new entries in every index (the full-text one too).
    A server's own conversation id (Gmail's X-GM-THRID) is then the only key: Gmail already threads
    by headers and more, and its threads are what the user sees in every other Gmail client.
    A batch costs a fixed number of statements, not three per message: the known keys are read at
    once and the batch is threaded in memory.
    """
    plan = ThreadPlan()
    by_account: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_account.setdefault(row["account_id"], []).append(row)
    for account_id, account_rows in by_account.items():
        _plan_batch(session, account_id, account_rows, server_threads or {}, plan)
    for row, thread in zip(plan.rows, plan.threads, strict=True):
        row["thread_id"] = thread
    return plan


def assign_threads(
    session: Session, rows: list[dict[str, Any]], server_threads: dict[str, str] | None = None
) -> None:
    """Set thread_id on rows already inserted (in UID order), recording and merging their keys."""
    plan_threads(session, rows, server_threads).write(session, rows_stored=False)


def _plan_batch(
    session: Session,
    account_id: str,
    rows: list[dict[str, Any]],
    server_threads: dict[str, str],
    plan: ThreadPlan,
) -> None:
    row_keys = [
        [GMAIL_PREFIX + server_threads[row["id"]]] if row["id"] in server_threads else message_keys(row)
        for row in rows
    ]
    known = _known_threads(session, account_id, {key for keys in row_keys for key in keys})
    merged_into: dict[str, str] = {}  # a thread that met another -> the one it joined

    def final(thread: str) -> str:
        while thread in merged_into:
            thread = merged_into[thread]
        return thread

    fresh_keys: dict[str, dict[str, Any]] = {}
    row_threads: list[str] = []
    for row, keys in zip(rows, row_keys, strict=True):
        threads = sorted({final(known[key]) for key in keys if key in known})
        thread = threads[0] if threads else new_id()
        for loser in threads[1:]:
            merged_into[loser] = thread
        for key in keys:
            if key not in known:
                known[key] = thread
                fresh_keys[key] = row
        row_threads.append(thread)
    if merged_into:
        plan.merges[account_id] = {loser: final(loser) for loser in merged_into}
    now = datetime.now(UTC)
    plan.fresh.extend(
        {
            "id": new_id(),
            "tenant_id": row["tenant_id"],
            "user_id": row["user_id"],
            "account_id": account_id,
            "message_key": key,
            "thread_id": final(known[key]),
            "created_at": now,
            "updated_at": now,
        }
        for key, row in fresh_keys.items()
    )
    plan.rows.extend(rows)
    plan.threads.extend(final(t) for t in row_threads)


def _known_threads(session: Session, account_id: str, keys: set[str]) -> dict[str, str]:
    known: dict[str, str] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        query = select(REFERENCES.c.message_key, REFERENCES.c.thread_id).where(
            REFERENCES.c.account_id == account_id,
            REFERENCES.c.message_key.in_(ordered[start : start + LOOKUP_CHUNK]),
        )
        known.update({key: thread for key, thread in session.execute(query)})
    return known


def _merge(session: Session, account_id: str, winners: dict[str, str]) -> None:
    """Stored messages and keys of merged-away threads move to the thread they joined."""
    losers_by_winner: dict[str, list[str]] = {}
    for loser, winner in winners.items():
        losers_by_winner.setdefault(winner, []).append(loser)
    for winner, losers in losers_by_winner.items():
        for table in (MESSAGES, REFERENCES):
            session.execute(
                update(table)
                .where(table.c.account_id == account_id, table.c.thread_id.in_(losers))
                .values(thread_id=winner)
            )
