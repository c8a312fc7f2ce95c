"""Email accounts: CRUD with the password encrypted at rest, and the owner check tasks rely on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth.account_auth import apply_oauth2, auth_view
from email_service.core.crypto import SecretBox
from email_service.core.errors import NotFound, TaskUnauthorized
from email_service.core.model_base import new_id
from email_service.core.tenancy.scoping import get_owned, scoped

PUBLIC_FIELDS = (
    "id",
    "email_address",
    "display_name",
    "protocol",
    "imap_host",
    "imap_port",
    "imap_security",
    "pop3_host",
    "pop3_port",
    "pop3_security",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "username",
    "is_sync_enabled",
    "sync_interval",
    "state",
    "last_error",
    "provider_saves_sent",
    "move_spam_to_junk",
    "push_enabled",
)


def account_view(account: EmailAccount) -> dict[str, Any]:
    """What the API shows: everything but the secrets (password, tokens, client secret)."""
    view = {name: getattr(account, name) for name in PUBLIC_FIELDS}
    view["auth"] = auth_view(account)
    view["last_sync_at"] = account.last_sync_at.isoformat() if account.last_sync_at else None
    view["created_at"] = account.created_at.isoformat() if account.created_at else None
    view["has_pinned_cert"] = bool(account.pinned_cert_pem)
    if account.protocol == "pop3":
        view["imap_host"] = None  # stored as "" (the column is NOT NULL)
    return view


def create_account(
    session: Session, box: SecretBox, tenant_id: str, user_id: str, data: dict[str, Any]
) -> EmailAccount:
    fields = dict(data)
    auth = fields.pop("auth", None) or {"type": "password"}
    password = fields.pop("password", None) or ""
    if fields.get("protocol") == "pop3":
        fields["imap_host"] = ""  # no IMAP server; imap_port/imap_security keep their defaults
    else:
        for name in ("pop3_host", "pop3_port", "pop3_security"):
            fields[name] = None
    account_id = new_id()
    account = EmailAccount(
        id=account_id,
        tenant_id=tenant_id,
        user_id=user_id,
        secret_ciphertext=box.encrypt(password, account_id),
        **fields,
    )
    if auth["type"] == "oauth2":
        apply_oauth2(box, account, auth)
    session.add(account)
    session.flush()
    return account


def list_accounts(session: Session, tenant_id: str, user_id: str) -> list[EmailAccount]:
    query = scoped(EmailAccount, tenant_id, user_id).order_by(EmailAccount.created_at, EmailAccount.id)
    return list(session.scalars(query))


def get_account(session: Session, account_id: str, tenant_id: str, user_id: str) -> EmailAccount:
    return get_owned(session, EmailAccount, account_id, tenant_id, user_id)


def update_account(
    session: Session, box: SecretBox, account_id: str, tenant_id: str, user_id: str, changes: dict[str, Any]
) -> EmailAccount:
    account = get_account(session, account_id, tenant_id, user_id)
    changes = dict(changes)
    password = changes.pop("password", None)
    auth = changes.pop("auth", None)
    if auth is not None:  # new tokens (a re-authorization): the account may log in again
        apply_oauth2(box, account, auth)
        changes.setdefault("state", "active")
    if password is not None:
        account.secret_ciphertext = box.encrypt(password, account.id)
        account.auth_type = "password"
        changes.setdefault("state", "active")
    if changes.get("state") == "active" or password is not None or auth is not None:
        account.auth_error_notified = False
        account.last_error = None
    for name, value in changes.items():
        setattr(account, name, value)
    session.flush()
    return account


def delete_account(session: Session, account_id: str, tenant_id: str, user_id: str) -> None:
    session.delete(get_account(session, account_id, tenant_id, user_id))


def account_password(box: SecretBox, account: EmailAccount) -> str:
    return box.decrypt(account.secret_ciphertext, account.id)


def load_account_for_task(session: Session, account_id: str, tenant_id: str, user_id: str) -> EmailAccount:
    """Tasks name an account by id; it must belong to the task's tenant and user, else no retry."""
    try:
        return get_account(session, account_id, tenant_id, user_id)
    except NotFound:
        raise TaskUnauthorized("account does not belong to this tenant and user") from None
