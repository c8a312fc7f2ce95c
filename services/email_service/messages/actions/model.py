"""The action log: one row per message (flags, move) or folder (create, rename, delete) a request changed.

The local change is made in the request's transaction together with these rows (state pending); the
task then acts on the server and marks each row done, or failed with a reason after reverting the local
change. While a row is pending, the sync engine keeps the local state (sync/store.py reads this table).

Server coordinates (folder_id, uidvalidity, uid) are where the message is on the server while the action
is pending: a moved row already shows its target folder, its own coordinates are a placeholder.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, TenantOwned, new_id

PENDING, DONE, FAILED = "pending", "done", "failed"
FLAGS, MOVE = "flags", "move"
FOLDER_CREATE, FOLDER_RENAME, FOLDER_DELETE = "folder_create", "folder_rename", "folder_delete"
FOLDER_KINDS = (FOLDER_CREATE, FOLDER_RENAME, FOLDER_DELETE)


class MessageAction(Base, TenantOwned):
    __tablename__ = "message_actions"
    __table_args__ = (
        Index("ix_message_actions_server_key", "folder_id", "uidvalidity", "state"),
        Index("ix_message_actions_account_state", "account_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Every row a request wrote shares its batch id; the task gets it as its argument.
    batch_id: Mapped[str] = mapped_column(String(36), index=True)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("email_accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    folder_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    uid: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target_folder_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # What the task and a revert need: the flags this request changed, old and new folder paths.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
