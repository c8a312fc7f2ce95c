"""Tenants and users: created by the CLI (create-token), checked on every authenticated request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_service.core.tenancy.tenant_model import Tenant
from email_service.core.tenancy.user_model import User


def ensure_tenant_user(session: Session, tenant_id: str, user_id: str, email: str = "") -> User:
    """Create the tenant and the user when missing; a user id already used by another tenant is refused."""
    if session.get(Tenant, tenant_id) is None:
        session.add(Tenant(id=tenant_id, name=tenant_id, settings={}))
        session.flush()
    user = session.get(User, user_id)
    if user is None:
        user = User(id=user_id, tenant_id=tenant_id, email=email, name=user_id, settings={})
        session.add(user)
        session.flush()
    elif user.tenant_id != tenant_id:
        raise ValueError(f"user {user_id!r} belongs to another tenant")
    return user


def user_exists(session: Session, tenant_id: str, user_id: str) -> bool:
    found = session.scalar(select(User.id).where(User.id == user_id, User.tenant_id == tenant_id))
    return found is not None
