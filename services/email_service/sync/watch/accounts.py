"""The watcher's reads and writes, blocking (run in a thread): which accounts to watch, their login
settings, and starting a folder's sync through the API's one trigger path (sync.trigger)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from email_service.accounts.mail_settings import imap_settings
from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth.refresh import OAuthRefreshRefused, refresh_refused_token, with_fresh_token
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.tenancy.tokens import Identity
from email_service.mail.imap.types import ImapAuthError, ImapSettings
from email_service.messages.folder_model import Folder
from email_service.notifications.account_notice import notify_auth_failure
from email_service.sync.service import park_account
from email_service.sync.trigger import request_sync

WATCH_TASK_NAME = "watch"  # names the failing party in the owner's auth-failure notice


@dataclass(frozen=True)
class WatchedAccount:
    """An account to hold IDLE on; `version` changes when anything its connection depends on does."""

    id: str
    tenant_id: str
    user_id: str
    host: str
    version: str


def watched_accounts() -> list[WatchedAccount]:
    """Every IMAP account with push and sync on that is not parked, across tenants (a system read:
    the watcher is an operator's process, driven by no request input)."""
    query = (
        select(
            EmailAccount.id,
            EmailAccount.tenant_id,
            EmailAccount.user_id,
            EmailAccount.imap_host,
            EmailAccount.imap_port,
            EmailAccount.imap_security,
            EmailAccount.username,
            EmailAccount.secret_ciphertext,
            EmailAccount.auth_type,
            EmailAccount.pinned_cert_pem,
        )
        .where(
            EmailAccount.protocol == "imap",
            EmailAccount.push_enabled.is_(True),
            EmailAccount.is_sync_enabled.is_(True),
            EmailAccount.state != "auth_error",
        )
        .order_by(EmailAccount.id)
    )
    with session_scope(system=True) as session:
        rows = session.execute(query).all()
    return [
        WatchedAccount(row.id, row.tenant_id, row.user_id, row.imap_host.lower(), _version(row))
        for row in rows
    ]


def _version(row: Any) -> str:
    """A digest of the connection's inputs (the ciphertext stands for the password: a new password is a
    new ciphertext); OAuth2 access tokens are left out, a refresh must not reconnect every account."""
    fields = ("imap_host", "imap_port", "imap_security", "username", "auth_type", "pinned_cert_pem")
    parts = [str(getattr(row, name)) for name in fields]
    if row.auth_type == "password":
        parts.append(str(row.secret_ciphertext))
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def login_settings(account: WatchedAccount, *, after_refusal: ImapSettings | None = None) -> ImapSettings:
    """The account's IMAP settings with a fresh access token (OAuth2: refreshed when about to expire;
    with `after_refusal`, refreshed because the server refused that one, or ImapAuthError)."""
    ids = (account.tenant_id, account.user_id, account.id)
    try:
        if after_refusal is not None:
            if after_refusal.access_token is None or not refresh_refused_token(
                *ids, after_refusal.access_token
            ):
                raise ImapAuthError("the server refused the access token and no newer one is available")
            reload = True
        else:
            reload = False
        with session_scope(account.tenant_id) as session:
            row = session.get(EmailAccount, account.id)
            if row is None:
                raise ImapAuthError("the account is gone")
            settings = imap_settings(row, get_secret_box())
        return with_fresh_token(settings, *ids, reload=reload)
    except OAuthRefreshRefused as exc:  # refresh.py has parked the account already
        raise ImapAuthError(str(exc)) from exc


def park(account: WatchedAccount, reason: str) -> None:
    """Login refused: auth_error as the sync parks it, and the owner told once."""
    park_account(account.tenant_id, account.user_id, account.id, reason)
    notify_auth_failure(account.id, account.tenant_id, account.user_id, WATCH_TASK_NAME, None, reason)


def start_folder_sync(account: WatchedAccount, folder_name: str, task_id: str) -> str:
    """The sync of the folder the server announced a change in, through the API's trigger (one sync per
    target: a queued or running one is returned instead); the whole account before its first sync."""
    with session_scope(account.tenant_id) as session:
        folder_id = session.scalars(
            select(Folder.id).where(Folder.account_id == account.id, Folder.name == folder_name)
        ).first()
    caller = Identity(account.tenant_id, account.user_id)
    return request_sync(caller, account.id, folder_id, False, task_id=task_id)
