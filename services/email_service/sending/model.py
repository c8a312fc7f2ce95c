"""A message the user asked to send; its id is the send task's id, which makes redelivery harmless."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, TenantOwned, UtcDateTime, new_id

OUTBOX_STATES = ("scheduled", "queued", "sending", "sent", "failed", "uncertain", "cancelled")


class OutboxMessage(Base, TenantOwned):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "idempotency_key", name="uq_outbox_idempotency"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("email_accounts.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The request as sent by the client (addresses, subject, bodies, attachment ids, in_reply_to).
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id_header: Mapped[str | None] = mapped_column(String(998), nullable=True)
    mime: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    send_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # When the send task was published; NULL while a scheduled send still waits in the database.
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
