"""What the accounts API does, one function per request: each opens its own tenant-scoped transaction."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from email_service.accounts import service
from email_service.accounts.autoconfig.fill import fill_from_autoconfig, needs_autoconfig
from email_service.accounts.autoconfig.lookup import autoconfig
from email_service.accounts.connection_test import test_account_connection
from email_service.accounts.hosts import check_account_hosts
from email_service.accounts.oauth.endpoint import TokenUrlRefused, check_token_url
from email_service.accounts.oauth.refresh import (
    OAuthRefreshRefused,
    OAuthRefreshUnavailable,
    ensure_fresh_token,
    refresh_failure,
)
from email_service.core.config import get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.errors import ValidationFailed
from email_service.core.tenancy.tokens import Identity
from email_service.messages.folders import folder_view, list_folders


def add_account(caller: Identity, fields: dict[str, Any], given: Collection[str] = ()) -> dict[str, Any]:
    """`given`: the fields the caller set; without hosts, autoconfig fills them (outside the transaction)."""
    settings = get_settings()
    if fields.get("protocol") != "pop3" and needs_autoconfig(fields):
        fields = fill_from_autoconfig(fields, given, settings.autoconfig_nameservers)
    check_account_hosts(fields, settings.allowed_private_hosts)
    check_auth(fields.get("auth"), settings.allowed_private_hosts)
    with session_scope(caller.tenant_id) as session:
        account = service.create_account(session, get_secret_box(), caller.tenant_id, caller.user_id, fields)
        return service.account_view(account)


def autoconfig_for(email: object) -> dict[str, Any]:
    """GET /api/autoconfig: no tenant data, only the table and DNS."""
    return autoconfig(email, get_settings().autoconfig_nameservers).view()


def account_list(caller: Identity) -> list[dict[str, Any]]:
    with session_scope(caller.tenant_id) as session:
        return [
            service.account_view(a) for a in service.list_accounts(session, caller.tenant_id, caller.user_id)
        ]


def show_account(caller: Identity, account_id: str) -> dict[str, Any]:
    with session_scope(caller.tenant_id) as session:
        return service.account_view(
            service.get_account(session, account_id, caller.tenant_id, caller.user_id)
        )


def change_account(caller: Identity, account_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    check_account_hosts(changes, get_settings().allowed_private_hosts)
    check_auth(changes.get("auth"), get_settings().allowed_private_hosts)
    with session_scope(caller.tenant_id) as session:
        current = service.get_account(session, account_id, caller.tenant_id, caller.user_id)
        other = "imap" if current.protocol == "pop3" else "pop3"
        wrong = sorted(n for n in changes if n.startswith(f"{other}_"))
        if wrong:
            raise ValidationFailed(
                f"{', '.join(wrong)}: not used by this {current.protocol.upper()} account",
                {
                    "fields": [
                        {"field": n, "message": "not used by this account", "type": "protocol"} for n in wrong
                    ]
                },
            )
        account = service.update_account(
            session, get_secret_box(), account_id, caller.tenant_id, caller.user_id, changes
        )
        return service.account_view(account)


def check_auth(auth: dict[str, Any] | None, allowed: tuple[str, ...]) -> None:
    """A custom provider's token_url must pass the outbound policy (422 naming auth.token_url)."""
    url = (auth or {}).get("token_url")
    if not url or auth is None or auth.get("provider") != "custom":
        return
    try:
        check_token_url(url, allowed)
    except TokenUrlRefused as exc:
        problem = {"field": "auth.token_url", "message": str(exc), "type": "host_not_allowed"}
        raise ValidationFailed(str(exc), {"fields": [problem]}) from None


def remove_account(caller: Identity, account_id: str) -> None:
    with session_scope(caller.tenant_id) as session:
        service.delete_account(session, account_id, caller.tenant_id, caller.user_id)


def check_connection(caller: Identity, account_id: str) -> dict[str, Any]:
    """Logs in to both servers outside the transaction (a slow server holds no connection), with an
    OAuth2 access token refreshed first when it is about to expire."""
    with session_scope(caller.tenant_id) as session:
        service.get_account(session, account_id, caller.tenant_id, caller.user_id)
    try:
        ensure_fresh_token(caller.tenant_id, caller.user_id, account_id)
    except (OAuthRefreshRefused, OAuthRefreshUnavailable) as exc:  # neither server can be logged in to
        failed = refresh_failure(exc)
        return {"ok": False, "imap": failed, "smtp": failed}
    with session_scope(caller.tenant_id) as session:
        account = service.get_account(session, account_id, caller.tenant_id, caller.user_id)
        session.expunge(account)
    return test_account_connection(account, get_secret_box())


def account_folders(caller: Identity, account_id: str) -> list[dict[str, Any]]:
    with session_scope(caller.tenant_id) as session:
        service.get_account(session, account_id, caller.tenant_id, caller.user_id)
        return [folder_view(f) for f in list_folders(session, account_id, caller.tenant_id, caller.user_id)]
