"""One change of one user's data: the feed's row, ordered by `seq` (the cursor)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, TenantOwned

MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
MESSAGE_DELETED = "message.deleted"
FOLDER_CHANGED = "folder.changed"
SEND_SENT = "send.sent"
SEND_FAILED = "send.failed"
ACCOUNT_AUTH_FAILED = "account.auth_failed"
TASK_COMPLETED = "task.completed"
# Every change type (§7): what a webhook may subscribe to.
EVENT_TYPES = (
    MESSAGE_CREATED,
    MESSAGE_UPDATED,
    MESSAGE_DELETED,
    FOLDER_CHANGED,
    SEND_SENT,
    SEND_FAILED,
    ACCOUNT_AUTH_FAILED,
    TASK_COMPLETED,
)


class Change(Base, TenantOwned):
    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_owner_seq", "tenant_id", "user_id", "seq"),)

    # INTEGER PRIMARY KEY on SQLite (its rowid, increasing), an identity BIGINT on PostgreSQL.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    type: Mapped[str] = mapped_column(String(32))
    # No foreign key: a change outlives the account or message it tells about (until pruned).
    account_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    object_id: Mapped[str] = mapped_column(String(36))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
