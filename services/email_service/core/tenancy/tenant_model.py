"""An organisation sharing this deployment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from email_service.core.model_base import Base, Timestamped


class Tenant(Base, Timestamped):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    # Per-tenant switches, e.g. {"notifications": {"send_failed": false}}.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
