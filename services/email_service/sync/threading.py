"""Thread assignment at sync time: each inserted message joins (or merges) conversations by Message-ID.

Keys of a message: its own Message-ID, its References and its In-Reply-To (so a reply without
References still joins). Any key already in message_references names a thread; none means a new
thread; several mean this message links conversations that were apart (a child that arrived before
its parent, a reply in Sent synced before INBOX), and they merge into one. A message without any id
is a thread of its own: a subject alone never merges strangers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from email_service.core.model_base import new_id
from email_service.messages.model import Message
from email_service.messages.threads.model import MAX_KEY_CHARS, MessageReference

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
REFERENCES: Table = MessageReference.__table__  # type: ignore[assignment]
# Keys of one account come from one server: Gmail accounts record only these, others never do.
GMAIL_PREFIX = "x-gm-thrid:"
MAX_KEYS = 52  # own id + References (capped at 50 by the parser) + In-Reply-To


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


def assign_threads(
    session: Session, rows: list[dict[str, Any]], server_threads: dict[str, str] | None = None
) -> None:
    """Set thread_id on freshly inserted rows (in UID order), recording and merging their keys.

    A server's own conversation id (Gmail's X-GM-THRID) is then the only key: Gmail already threads
    by headers and more, and its threads are what the user sees in every other Gmail client.
    """
    for row in rows:
        server_thread = (server_threads or {}).get(row["id"])
        _assign(session, row, [GMAIL_PREFIX + server_thread] if server_thread else message_keys(row))


def _assign(session: Session, row: dict[str, Any], keys: list[str]) -> None:
    account_id = row["account_id"]
    known: dict[str, str] = {}
    if keys:
        query = select(REFERENCES.c.message_key, REFERENCES.c.thread_id).where(
            REFERENCES.c.account_id == account_id, REFERENCES.c.message_key.in_(keys)
        )
        known = {key: thread for key, thread in session.execute(query)}
    threads = sorted(set(known.values()))
    thread = threads[0] if threads else new_id()
    losers = threads[1:]
    if losers:
        session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.account_id == account_id, MESSAGES.c.thread_id.in_(losers))
            .values(thread_id=thread)
        )
        session.execute(
            update(REFERENCES)
            .where(REFERENCES.c.account_id == account_id, REFERENCES.c.thread_id.in_(losers))
            .values(thread_id=thread)
        )
    now = datetime.now(UTC)
    fresh = [
        {
            "id": new_id(),
            "tenant_id": row["tenant_id"],
            "user_id": row["user_id"],
            "account_id": account_id,
            "message_key": key,
            "thread_id": thread,
            "created_at": now,
            "updated_at": now,
        }
        for key in keys
        if key not in known
    ]
    if fresh:
        session.execute(REFERENCES.insert(), fresh)
    session.execute(update(MESSAGES).where(MESSAGES.c.id == row["id"]).values(thread_id=thread))
