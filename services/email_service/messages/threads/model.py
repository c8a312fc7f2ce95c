"""message-id → thread: the table that lets replies, parents and late arrivals find one conversation."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, TenantOwned, new_id

MAX_KEY_CHARS = 998  # an RFC 5322 line


class MessageReference(Base, TenantOwned):
    """One Message-ID (seen as a message's own id or in its References / In-Reply-To) and its thread.

    A row exists for ids whose message has not arrived yet, so a parent synced later (or in another
    folder) joins the thread its replies already started. Keyed per account: two accounts of one user
    never share rows, so ids cannot leak a conversation across mailboxes.
    """

    __tablename__ = "message_references"
    __table_args__ = (UniqueConstraint("account_id", "message_key", name="uq_message_references_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("email_accounts.id", ondelete="CASCADE"))
    message_key: Mapped[str] = mapped_column(String(MAX_KEY_CHARS))
    thread_id: Mapped[str] = mapped_column(String(36), index=True)
