"""The demo EmailAccount row pointing at the sandbox, created once and kept in step with the ports."""

from __future__ import annotations

from typing import Any

from email_service.accounts.service import create_account, list_accounts, update_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.sandbox.settings import SandboxSettings


def account_fields(settings: SandboxSettings) -> dict[str, Any]:
    """Connection settings of the sandbox account, as the accounts service takes them."""
    return {
        "email_address": settings.address,
        "display_name": "Demo User (sandbox)",
        "imap_host": settings.host,
        "imap_port": settings.imap_port,
        "imap_security": "none",
        "smtp_host": settings.host,
        "smtp_port": settings.smtp_port,
        "smtp_security": "none",
        "username": settings.address,
        "password": settings.password,
    }


def ensure_demo_account(settings: SandboxSettings, tenant_id: str, user_id: str) -> str:
    """Create the account, or refresh ports and password of the existing one; returns its id."""
    fields = account_fields(settings)
    box = get_secret_box()
    with session_scope(tenant_id) as session:
        for account in list_accounts(session, tenant_id, user_id):
            if account.email_address == settings.address:
                changes = {k: v for k, v in fields.items() if k == "password" or getattr(account, k) != v}
                if len(changes) > 1 or account.state == "auth_error":
                    update_account(session, box, account.id, tenant_id, user_id, changes)
                return account.id
        return create_account(session, box, tenant_id, user_id, fields).id
