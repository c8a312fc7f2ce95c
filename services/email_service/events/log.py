"""Append changes inside the caller's transaction; wake the user's long-polls once it commits.

Order: the feed hands out changes by increasing `seq`, and a reader must never see seq 11 committed
while seq 10 is still in flight (its cursor would pass 10 for good). The rows are therefore written
at the very end of the transaction (before_commit), under a transaction-scoped advisory lock per user
on PostgreSQL, so one user's changes commit in seq order. Taken last, that lock cannot be part of a
deadlock: its holder waits for nothing else before it commits (taken mid-transaction, it was held
while the sync went on to lock its folder row, which a client action updating the same folder held
while waiting for the lock). SQLite has one writer at a time anyway.

Webhook deliveries of these changes are written in the same before_commit (events/webhooks/fanout.py)
and published to the `webhooks` queue after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, event, func, select
from sqlalchemy.orm import Session

from email_service.core.model_base import utcnow
from email_service.events.model import ACCOUNT_AUTH_FAILED, Change
from email_service.events.notify import publish_changed
from email_service.events.webhooks.fanout import subscribed_hooks, write_deliveries

CHANGES: Table = Change.__table__  # type: ignore[assignment]
PENDING_KEY = "events.changed_owners"  # session.info: owners to wake after commit
ROWS_KEY = "events.pending_changes"  # session.info: rows to insert right before commit
DELIVERIES_KEY = "events.pending_deliveries"  # session.info: webhook deliveries to publish after commit


def append_changes(
    session: Session,
    owner: tuple[str, str],
    change_type: str,
    account_id: str | None,
    object_ids: Iterable[str],
    data: dict[str, Any] | None = None,
) -> int:
    """One change of `change_type` per object id, written when this transaction commits; returns how many."""
    tenant_id, user_id = owner
    now = utcnow()
    rows = [
        {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "type": change_type,
            "account_id": account_id,
            "object_id": object_id,
            "data": data or {},
            "created_at": now,
            "updated_at": now,
        }
        for object_id in object_ids
    ]
    session.info.setdefault(ROWS_KEY, []).extend(rows)
    return len(rows)


def append_per_account(
    session: Session,
    owner: tuple[str, str],
    change_type: str,
    objects: Iterable[tuple[str, str]],
    data: dict[str, Any] | None = None,
) -> int:
    """append_changes for (account_id, object_id) pairs that span accounts."""
    by_account: dict[str, list[str]] = {}
    for account_id, object_id in objects:
        by_account.setdefault(account_id, []).append(object_id)
    return sum(
        append_changes(session, owner, change_type, account_id, ids, data)
        for account_id, ids in by_account.items()
    )


def account_parked(session: Session, owner: tuple[str, str], account_id: str) -> None:
    """account.auth_failed: its credentials or tokens were refused and it is now in auth_error."""
    append_changes(session, owner, ACCOUNT_AUTH_FAILED, account_id, [account_id], {"state": "auth_error"})


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    rows: list[dict[str, Any]] = session.info.pop(ROWS_KEY, None) or []
    if not rows:
        return
    owners = {(row["tenant_id"], row["user_id"]) for row in rows}
    if session.get_bind().dialect.name == "postgresql":
        for _tenant_id, user_id in sorted(owners):  # one order for everyone: no deadlock between them
            key = func.hashtextextended(f"changes:{user_id}", 0)
            session.execute(select(func.pg_advisory_xact_lock(key)))
    hooks = subscribed_hooks(session, owners)
    if hooks:  # the seqs are needed for the deliveries' events
        returning = CHANGES.insert().returning(CHANGES.c.seq, sort_by_parameter_order=True)
        seqs = [int(seq) for seq in session.scalars(returning, rows)]
        deliveries = write_deliveries(session, hooks, rows, seqs)
        session.info.setdefault(DELIVERIES_KEY, []).extend(deliveries)
    else:
        session.execute(CHANGES.insert(), rows)
    session.info.setdefault(PENDING_KEY, set()).update(owners)


@event.listens_for(Session, "after_commit")
def _wake_readers(session: Session) -> None:
    owners = session.info.pop(PENDING_KEY, None)
    if owners:
        publish_changed(owners)
    deliveries = session.info.pop(DELIVERIES_KEY, None)
    if deliveries:
        from email_service.events.webhooks.dispatch import publish_deliveries  # imports Celery

        publish_deliveries(deliveries)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(ROWS_KEY, None)
    session.info.pop(DELIVERIES_KEY, None)
