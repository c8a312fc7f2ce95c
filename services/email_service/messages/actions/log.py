"""DB side of the action log: write pending rows, read a batch, mark rows done or failed.

Every statement filters on tenant and user (SQLite has no row-level security, a system session
bypasses it), so a batch id of anyone else reads as empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from email_service.deletion.store import Owner
from email_service.messages.actions.model import DONE, FAILED, MOVE, PENDING, MessageAction

MAX_REASON_CHARS = 500


def owned(owner: Owner) -> Any:
    return and_(MessageAction.tenant_id == owner.tenant_id, MessageAction.user_id == owner.user_id)


@dataclass(frozen=True)
class Action:
    """One logged action as plain values."""

    id: str
    kind: str
    state: str
    account_id: str
    message_id: str | None
    folder_id: str | None
    uidvalidity: int | None
    uid: int | None
    target_folder_id: str | None
    data: dict[str, Any]
    attempts: int
    reason: str | None


def add(session: Session, owner: Owner, batch_id: str, kind: str, account_id: str, **values: Any) -> None:
    session.add(
        MessageAction(
            tenant_id=owner.tenant_id,
            user_id=owner.user_id,
            batch_id=batch_id,
            kind=kind,
            account_id=account_id,
            state=PENDING,
            attempts=0,
            data=values.pop("data", None) or {},
            **values,
        )
    )


def batch(session: Session, owner: Owner, batch_id: str, count_attempt: bool = False) -> list[Action]:
    """Every row of a batch (oldest first); count_attempt adds one attempt to its pending rows."""
    mine = and_(owned(owner), MessageAction.batch_id == batch_id)
    if count_attempt:
        session.execute(
            update(MessageAction)
            .where(mine, MessageAction.state == PENDING)
            .values(attempts=MessageAction.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    rows = session.scalars(
        select(MessageAction).where(mine).order_by(MessageAction.created_at, MessageAction.id)
    )
    return [
        Action(
            r.id,
            r.kind,
            r.state,
            r.account_id,
            r.message_id,
            r.folder_id,
            r.uidvalidity,
            r.uid,
            r.target_folder_id,
            dict(r.data or {}),
            r.attempts,
            r.reason,
        )
        for r in rows
    ]


def finish(session: Session, owner: Owner, action_ids: Iterable[str], reason: str | None = None) -> None:
    """Mark pending rows done (reason None) or failed with the reason."""
    ids = list(action_ids)
    if not ids:
        return
    values: dict[str, Any] = {"state": DONE if reason is None else FAILED}
    if reason is not None:
        values["reason"] = reason[:MAX_REASON_CHARS]
    session.execute(
        update(MessageAction)
        .where(owned(owner), MessageAction.id.in_(ids), MessageAction.state == PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def drop_batch(session: Session, owner: Owner, batch_id: str) -> None:
    """The task was never queued: the rows go with the local change they described."""
    for row in session.scalars(select(MessageAction).where(owned(owner), MessageAction.batch_id == batch_id)):
        session.delete(row)


def pending_for(session: Session, owner: Owner, kinds: Sequence[str], message_ids: Sequence[str]) -> set[str]:
    """Which of these messages have a pending action of one of these kinds."""
    if not message_ids:
        return set()
    query = select(MessageAction.message_id).where(
        owned(owner),
        MessageAction.state == PENDING,
        MessageAction.kind.in_(list(kinds)),
        MessageAction.message_id.in_(list(message_ids)),
    )
    return {m for m in session.scalars(query) if m is not None}


def pending_move_source(session: Session, owner: Owner, message_id: str) -> tuple[str, int, int] | None:
    """(folder id, UIDVALIDITY, UID) where the server still keeps a message whose move is pending."""
    query = select(MessageAction.folder_id, MessageAction.uidvalidity, MessageAction.uid).where(
        owned(owner),
        MessageAction.message_id == message_id,
        MessageAction.kind == MOVE,
        MessageAction.state == PENDING,
    )
    row = session.execute(query.limit(1)).first()
    if row is None or row[0] is None or row[1] is None or row[2] is None:
        return None
    return str(row[0]), int(row[1]), int(row[2])


def summary(actions: Sequence[Action]) -> dict[str, Any]:
    """The task result: counts and each failed row with its reason."""
    failed = [
        {"id": a.message_id or a.folder_id, "reason": a.reason or ""} for a in actions if a.state == FAILED
    ]
    return {
        "done_count": sum(1 for a in actions if a.state == DONE),
        "pending_count": sum(1 for a in actions if a.state == PENDING),
        "failed": failed,
        "attempts": max((a.attempts for a in actions), default=0),
    }
