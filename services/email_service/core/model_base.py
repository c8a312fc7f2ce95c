"""Declarative base and the mixins every tenant-owned row shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

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


def iso_or_none(value: datetime | None) -> str | None:
    """A stored time as the API shows it (ISO 8601 with its UTC offset), or None."""
    return value.isoformat() if value is not None else None


class UtcDateTime(TypeDecorator[datetime]):
    """Every datetime column: stored as UTC, read back timezone-aware on every backend.

    SQLite keeps no offset (SQLAlchemy writes the wall-clock fields and returns naive values), so an
    aware value written in another zone would be stored as the wrong instant, and a naive read-back
    cannot be compared with datetime.now(UTC). Converting on the way in and tagging on the way out
    makes both backends behave as PostgreSQL's timestamptz. A naive value from the code is refused:
    its zone is unknown, and guessing is how instants go wrong silently.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime takes a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("UtcDateTime takes timezone-aware datetimes only")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # SQLite: stored as UTC by process_bind_param
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class TenantOwned(Timestamped):
    """Every row belongs to one tenant and one user; queries filter on both (see tenancy.scoped)."""

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        return mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def user_id(cls) -> Mapped[str]:
        return mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True)
