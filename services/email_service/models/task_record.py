"""Who owns a Celery task: the status API answers only the tenant and user recorded here."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from email_service.models.base import Base, TenantOwned


class TaskRecord(Base, TenantOwned):
    __tablename__ = "task_records"

    id: Mapped[str] = mapped_column(String(155), primary_key=True)  # the Celery task id
    kind: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("email_accounts.id", ondelete="SET NULL"), nullable=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
