"""A mirrored message: parsed fields for the frontend, server coordinates for write-back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import text

from email_service.core.model_base import Base, TenantOwned, UtcDateTime, new_id


class Message(Base, TenantOwned):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("account_id", "folder_id", "uidvalidity", "uid", name="uq_messages_server_key"),
        # POP3 accounts: one row per server UIDL. Partial: IMAP rows (NULL) stay out of it, so the
        # planner can never pick it for account lookups (migration 0013_pop3_uidl_partial).
        Index(
            "uq_messages_pop3_uidl",
            "account_id",
            "pop3_uidl",
            unique=True,
            postgresql_where=text("pop3_uidl IS NOT NULL"),
            sqlite_where=text("pop3_uidl IS NOT NULL"),
        ),
        Index("ix_messages_listing", "tenant_id", "user_id", "folder_id", "date_sort", "id"),
        # Listing across folders (no folder_id filter) of live messages, newest first.
        Index(
            "ix_messages_listing_all",
            "tenant_id",
            "user_id",
            "date_sort",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        # No index of its own: uq_messages_server_key starts with account_id (migration 0013).
        String(36),
        ForeignKey("email_accounts.id", ondelete="CASCADE"),
    )
    folder_id: Mapped[str] = mapped_column(String(36), ForeignKey("folders.id", ondelete="CASCADE"))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    modseq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The POP3 UIDL this row was fetched as (POP3 accounts only; uid is then a local sequence number).
    pop3_uidl: Mapped[str | None] = mapped_column(String(255), nullable=True)
    message_id_header: Mapped[str | None] = mapped_column(String(998), nullable=True, index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998), nullable=True)
    references: Mapped[str | None] = mapped_column(Text, nullable=True)
    thread_id: Mapped[str | None] = mapped_column(String(998), nullable=True, index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    from_name: Mapped[str] = mapped_column(String(500), default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    to_addresses: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    cc_addresses: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    reply_to: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    date: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Sort key for "newest first": Date header, else INTERNALDATE; never null.
    date_sort: Mapped[datetime] = mapped_column(UtcDateTime())
    snippet: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw_size: Mapped[int] = mapped_column(Integer, default=0)
    # Raw bytes are kept only when parsing failed (quarantine), so nothing is lost.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    parse_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Gmail (X-GM-EXT-1): the message's labels and its stable id; [] and None on other servers.
    labels: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    gm_msgid: Mapped[str | None] = mapped_column(String(20), nullable=True)
    is_read: Mapped[bool] = mapped_column(Boolean, default=False)
    is_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    is_answered: Mapped[bool] = mapped_column(Boolean, default=False)
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    # Every attachment's file name, space-separated, for full-text search (set by the sync's row
    # builder, bounded there). The search index itself is outside the model: PostgreSQL's
    # search_vector column and SQLite's messages_fts table (migration 0008_fulltext_search).
    attachment_names: Mapped[str] = mapped_column(Text, default="")
    # Soft delete: hidden from listings; original_folder_id lets restore move it back.
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    original_folder_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    spam_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    is_spam: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    spam_indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    spam_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
