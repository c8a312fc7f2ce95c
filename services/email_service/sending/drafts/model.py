"""A draft the user is writing: the latest version locally, and where its copy is on the server.

Each save bumps `version` and gives the version a Message-ID of our own (`<draft.<id>.<version>@…>`),
so the task can tell its versions apart on the server and a sync recognises the copy it mirrors.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, TenantOwned, new_id

DRAFT, SENT = "draft", "sent"


class Draft(Base, TenantOwned):
    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_owner_updated", "tenant_id", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("email_accounts.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The fields of a send request (to, cc, bcc, subject, bodies, attachment_ids, in_reply_to).
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id_header: Mapped[str] = mapped_column(String(998))
    # The version the server's Drafts folder holds, and where (set by the write-back task).
    server_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    server_uidvalidity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    server_uid: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The send (outbox row = task id) once sent; a second send answers 409.
    outbox_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
