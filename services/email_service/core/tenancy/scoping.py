"""Queries that cannot forget the owner: every lookup of a tenant-owned row goes through here."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from email_service.core.errors import NotFound
from email_service.core.model_base import TenantOwned

M = TypeVar("M", bound=TenantOwned)


def scoped(model: type[M], tenant_id: str, user_id: str) -> Select[Any]:
    """SELECT model WHERE tenant_id AND user_id: the base of every owner query."""
    cls: Any = model
    return select(model).where(cls.tenant_id == tenant_id, cls.user_id == user_id)


def owned_row_query(model: type[M], *columns: Any, id_param: str) -> Select[Any]:
    """SELECT columns of one row by id, tenant and user, each a bind parameter (`id_param`,
    "tenant_id", "user_id"): a module constant for fetch_one_scoped, compiled once."""
    cls: Any = model
    return select(*columns).where(
        cls.id == bindparam(id_param),
        cls.tenant_id == bindparam("tenant_id"),
        cls.user_id == bindparam("user_id"),
    )


def get_owned(session: Session, model: type[M], row_id: Any, tenant_id: str, user_id: str) -> M:
    """The row if it exists AND belongs to tenant and user; otherwise NotFound (never 403)."""
    cls: Any = model
    row: M | None = session.scalars(scoped(model, tenant_id, user_id).where(cls.id == row_id)).first()
    if row is None:
        raise NotFound(f"{model.__name__} not found", {"id": str(row_id)})
    return row
