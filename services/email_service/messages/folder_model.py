"""A mailbox on the server and the persisted sync state that makes resyncs incremental."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, TenantOwned, UtcDateTime, new_id

FOLDER_ROLES = ("inbox", "sent", "trash", "junk", "drafts", "archive")


class Folder(Base, TenantOwned):
    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_folders_account_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("email_accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(1000))
    delimiter: Mapped[str | None] = mapped_column(String(4), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    is_selectable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Sync state (DESIGN §4): what the server told us at the last successful checkpoint.
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    uidnext: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    highestmodseq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Highest UID stored so far in the current uidvalidity; a crash resumes from here.
    synced_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_full_scan_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
