"""Who owns a Celery task, and how it ended: the status API answers only the tenant and user recorded here.

The outcome columns stay NULL while the task is queued or running (live state and progress come from
the result backend); the worker fills them in once, when the task finishes, so the answer outlives
the result backend's expiry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, TenantOwned, UtcDateTime


class TaskRecord(Base, TenantOwned):
    __tablename__ = "task_records"

    id: Mapped[str] = mapped_column(String(155), primary_key=True)  # the Celery task id
    kind: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("email_accounts.id", ondelete="SET NULL"), nullable=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A member of a group (one sync per account): the group's own record id, the chord's callback.
    group_id: Mapped[str | None] = mapped_column(String(155), nullable=True, index=True)
    # The task API's final status (success / failed / revoked), its safe result and its error.
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    result: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
