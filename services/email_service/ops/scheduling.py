"""periodic_sync's use case: claim due accounts in one query, record their tasks, publish in batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, String, any_, bindparam, false, insert, or_, select, text, update

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.core.model_base import new_id, utcnow
from email_service.core.tasking.model import TaskRecord

# Spread this many starts per second so thousands of due accounts do not hit servers at once.
STARTS_PER_SECOND = 20
CLAIM_LIMIT = 50_000
# Ids per UPDATE statement (SQLite allows at most 32,766 bound parameters).
UPDATE_CHUNK = 5_000
PARKED_STATES = frozenset({"auth_error", "syncing"})


@dataclass(frozen=True)
class SyncDispatch:
    task_id: str
    account_id: str
    tenant_id: str
    user_id: str
    countdown: float


@dataclass
class DispatchReport:
    dispatched: int = 0
    skipped: int = 0
    task_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "success",
            "dispatched": self.dispatched,
            "skipped": self.skipped,
            "task_ids": self.task_ids,
        }


def due_accounts_query(now: datetime) -> Any:
    """Enabled and due (never claimed, or the claim expired); parked ones are filtered by the caller."""
    return (
        select(
            EmailAccount.id,
            EmailAccount.tenant_id,
            EmailAccount.user_id,
            EmailAccount.sync_interval,
            EmailAccount.state,
        )
        .where(
            EmailAccount.is_sync_enabled.is_(True),
            or_(EmailAccount.next_sync_at.is_(None), EmailAccount.next_sync_at <= now),
        )
        .order_by(EmailAccount.next_sync_at.nulls_first(), EmailAccount.id)
        .limit(CLAIM_LIMIT)
    )


def plan(rows: Sequence[Any], starts_per_second: int = STARTS_PER_SECOND) -> list[SyncDispatch]:
    return [
        SyncDispatch(new_id(), row.id, row.tenant_id, row.user_id, countdown=index / starts_per_second)
        for index, row in enumerate(rows)
    ]


def _store_next_sync(session: Any, rows: Sequence[Any], now: datetime) -> None:
    """One UPDATE … WHERE id IN (…) per distinct interval and chunk, not one statement per account."""
    by_interval: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        by_interval[row.sync_interval].append(row.id)
    for interval, ids in by_interval.items():
        for start in range(0, len(ids), UPDATE_CHUNK):
            session.execute(
                update(EmailAccount)
                .where(_id_in(session, ids[start : start + UPDATE_CHUNK]))
                .values(next_sync_at=now + timedelta(seconds=interval))
                .execution_options(synchronize_session=False)
            )


def _id_in(session: Any, ids: list[str]) -> Any:
    """`id = ANY(:array)` on PostgreSQL (one parameter), `id IN (…)` elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return EmailAccount.id == any_(bindparam("claimed_ids", ids, type_=ARRAY(String)))
    return EmailAccount.id.in_(ids)


_UNNEST_INSERT = text(
    "INSERT INTO task_records (id, tenant_id, user_id, kind, account_id, created_at, updated_at) "
    "SELECT id, tenant_id, user_id, 'sync_emails', account_id, :now, :now FROM unnest("
    "CAST(:ids AS text[]), CAST(:tenants AS text[]), CAST(:users AS text[]), CAST(:accounts AS text[])"
    ") AS t(id, tenant_id, user_id, account_id)"
)


def _record_tasks(session: Any, dispatches: Sequence[SyncDispatch], now: datetime) -> None:
    """PostgreSQL: one INSERT … SELECT FROM unnest(arrays); elsewhere an executemany."""
    if session.get_bind().dialect.name == "postgresql":
        params = {
            "now": now,
            "ids": [d.task_id for d in dispatches],
            "tenants": [d.tenant_id for d in dispatches],
            "users": [d.user_id for d in dispatches],
            "accounts": [d.account_id for d in dispatches],
        }
        session.execute(_UNNEST_INSERT, params)
        return
    rows = [
        {
            "id": d.task_id,
            "tenant_id": d.tenant_id,
            "user_id": d.user_id,
            "kind": "sync_emails",
            "account_id": d.account_id,
            "created_at": now,
            "updated_at": now,
        }
        for d in dispatches
    ]
    session.execute(insert(TaskRecord), rows)


def claim_due_accounts(now: datetime | None = None) -> tuple[list[SyncDispatch], int]:
    """One SELECT (row-locked on PostgreSQL so a second beat skips them), then the claims are stored.

    Returns the dispatches and how many due accounts were skipped (parked on auth_error, or syncing).
    """
    now = now or utcnow()
    with session_scope(system=True) as session:
        query = due_accounts_query(now)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=EmailAccount)
        else:
            # SQLite has no row locks: a write that matches nothing takes the database's write lock
            # first, so a concurrent tick waits for this claim and then sees it (never both claim).
            session.execute(update(EmailAccount).where(false()).values(state=EmailAccount.state))
        due = session.execute(query).all()
        rows = [row for row in due if row.state not in PARKED_STATES]
        dispatches = plan(rows)
        skipped = len(due) - len(rows)
        if not dispatches:
            return [], skipped
        _store_next_sync(session, rows, now)
        _record_tasks(session, dispatches, now)
    return dispatches, skipped


def dispatch_due_syncs(publish: Callable[[list[SyncDispatch]], None]) -> DispatchReport:
    """Claim, then publish after the claim committed (a crash in between only delays a sync)."""
    dispatches, skipped = claim_due_accounts()
    if dispatches:
        publish(dispatches)
    return DispatchReport(
        dispatched=len(dispatches), skipped=skipped, task_ids=[d.task_id for d in dispatches]
    )
