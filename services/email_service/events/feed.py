"""The changes feed's use cases: the latest cursor, and changes after a cursor (long-polled).

A cursor is the decimal `seq` of the last change seen ("0": from the oldest kept). Changes older than
the retention are pruned; a cursor from before them simply continues with the oldest kept.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from email_service.core.db import session_scope
from email_service.core.errors import BadRequest
from email_service.core.model_base import iso_or_none
from email_service.core.tenancy.tokens import Identity
from email_service.events.model import Change
from email_service.events.notify import ChangeWaiter

MAX_WAIT_SECONDS = 30
MAX_LIMIT = 500


def parse_cursor(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        raise BadRequest("since must be a cursor from this API", {"field": "since"})
    return int(raw)


def latest_cursor(caller: Identity) -> str:
    with session_scope(caller.tenant_id) as session:
        seq = session.scalar(
            select(func.max(Change.seq)).where(
                Change.tenant_id == caller.tenant_id, Change.user_id == caller.user_id
            )
        )
    return str(seq or 0)


def _read(caller: Identity, since: int, limit: int) -> list[dict[str, Any]]:
    query = (
        select(Change)
        .where(Change.tenant_id == caller.tenant_id, Change.user_id == caller.user_id, Change.seq > since)
        .order_by(Change.seq)
        .limit(limit)
    )
    with session_scope(caller.tenant_id) as session:
        return [_view(change) for change in session.scalars(query)]


def _view(change: Change) -> dict[str, Any]:
    return {
        "id": str(change.seq),
        "type": change.type,
        "account_id": change.account_id,
        "object_id": change.object_id,
        "at": iso_or_none(change.created_at),
        "data": change.data or {},
    }


def changes_since(caller: Identity, since: int, limit: int, wait: int) -> dict[str, Any]:
    """Changes after `since`, oldest first; with `wait`, hold until one comes or the time is up.

    The wait holds a Redis subscription, not a database connection: the log is read before and
    after it, each time in a short transaction of its own.
    """
    waiter = ChangeWaiter(caller.tenant_id, caller.user_id) if wait > 0 else None
    try:
        changes = _read(caller, since, limit)
        if not changes and waiter is not None and waiter.wait(wait):
            changes = _read(caller, since, limit)
    finally:
        if waiter is not None:
            waiter.close()
    return {"changes": changes, "next_cursor": changes[-1]["id"] if changes else str(since)}
