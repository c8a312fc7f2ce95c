"""Declarative base and the mixins every tenant-owned row shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """Random, unguessable ids: enumerating another tenant's rows by id is not possible."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class TenantOwned(Timestamped):
    """Every row belongs to one tenant and one user; queries filter on both (see tenancy.scoped)."""

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        return mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def user_id(cls) -> Mapped[str]:
        return mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
