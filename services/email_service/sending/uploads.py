"""Stored uploads: the per-user and per-tenant byte quota, and pruning the ones no send refers to.

Both count from the attachments table itself (is_upload rows), so there is no counter to drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Text, cast, delete, exists, func, select
from sqlalchemy.orm import Session

from email_service.core.config import get_settings
from email_service.core.errors import QuotaExceeded
from email_service.core.tenancy.user_model import User
from email_service.messages.attachment_model import Attachment
from email_service.sending.drafts.model import Draft
from email_service.sending.model import OutboxMessage


def stored_bytes(session: Session, tenant_id: str, user_id: str | None = None) -> int:
    """Bytes of uploads kept for the tenant, or for one of its users."""
    query = select(func.coalesce(func.sum(Attachment.size), 0)).where(
        Attachment.tenant_id == tenant_id, Attachment.is_upload.is_(True)
    )
    if user_id is not None:
        query = query.where(Attachment.user_id == user_id)
    return int(session.scalar(query) or 0)


def check_upload_quota(session: Session, tenant_id: str, user_id: str, size: int) -> None:
    """Refuse an upload that would take the user or the tenant over its quota.

    The user's row is locked (PostgreSQL) until the upload commits, so one user's concurrent uploads
    are counted one after the other; SQLite serialises writers anyway.
    """
    session.execute(select(User.id).where(User.tenant_id == tenant_id, User.id == user_id).with_for_update())
    settings = get_settings()
    for scope, quota, used in (
        ("user", settings.upload_quota_bytes_user, stored_bytes(session, tenant_id, user_id)),
        ("tenant", settings.upload_quota_bytes_tenant, stored_bytes(session, tenant_id)),
    ):
        if used + size > quota:
            raise QuotaExceeded(
                f"upload quota exceeded: {used} + {size} > {quota} bytes stored per {scope}; "
                "uploads no send refers to are deleted after a day",
                {"scope": scope, "quota_bytes": quota, "used_bytes": used, "size": size},
            )


def prune_unused_uploads(session: Session, older_than: datetime) -> int:
    """Delete uploads created before `older_than` that no outbox row or draft of their user refers to.

    Both name their uploads in request.attachment_ids; the match is on the JSON's text (ids are
    UUIDs), so it runs on both backends in one statement and can only err towards keeping a row.
    """
    referenced = exists().where(
        OutboxMessage.tenant_id == Attachment.tenant_id,
        OutboxMessage.user_id == Attachment.user_id,
        cast(OutboxMessage.request, Text).contains(Attachment.id),
    ) | exists().where(
        Draft.tenant_id == Attachment.tenant_id,
        Draft.user_id == Attachment.user_id,
        cast(Draft.request, Text).contains(Attachment.id),
    )
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(Attachment).where(
            Attachment.is_upload.is_(True),
            Attachment.message_id.is_(None),
            Attachment.created_at < older_than,
            ~referenced,
        )
    )
    return int(result.rowcount)
