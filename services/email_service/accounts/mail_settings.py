"""Connection settings for an account's IMAP and SMTP servers, with the password (or the OAuth2 access
token) decrypted in memory only. The token is refreshed beforehand (accounts.oauth.refresh), outside any
transaction, by the use case that logs in."""

from __future__ import annotations

from typing import Any

from email_service.accounts.connection_cap import mailbox_slot
from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth.secrets import access_token
from email_service.accounts.service import account_password
from email_service.core.config import get_settings
from email_service.core.crypto import SecretBox
from email_service.core.errors import Conflict
from email_service.mail.imap.client import ImapSettings
from email_service.mail.pop3.types import Pop3Settings
from email_service.mail.smtp.client import SmtpSettings

# Flags, moves, folders, drafts and the Sent copy write back over IMAP; a POP3 account has none.
POP3_NO_IMAP = "this is a POP3 account: it has no IMAP server to write back to (INBOX only, by UIDL)"


def _server(account: EmailAccount, box: SecretBox, protocol: str) -> dict[str, Any]:
    """One server's settings from the account's `<protocol>_host/_port/_security` columns, with the
    login, pinned certificate and host policy both servers share."""
    server = {
        "host": getattr(account, f"{protocol}_host"),
        "port": getattr(account, f"{protocol}_port"),
        "security": getattr(account, f"{protocol}_security"),
        "username": account.username,
        "password": account_password(box, account),
        "pinned_cert_pem": account.pinned_cert_pem,
        "allowed_private_hosts": get_settings().allowed_private_hosts,
    }
    if account.auth_type == "oauth2" and protocol != "pop3":
        server["password"] = ""
        server["access_token"] = access_token(box, account)
    return server


def imap_settings(account: EmailAccount, box: SecretBox) -> ImapSettings:
    if account.protocol == "pop3":
        raise Conflict(POP3_NO_IMAP, {"account_id": account.id, "protocol": "pop3"})
    settings = get_settings()
    return ImapSettings(
        timeout=settings.imap_timeout_seconds,
        command_timeout=settings.imap_command_timeout_seconds,
        min_bytes_per_second=settings.imap_min_bytes_per_second,
        slot=mailbox_slot(account.imap_host, account.username),
        **_server(account, box, "imap"),
    )


def pop3_settings(account: EmailAccount, box: SecretBox) -> Pop3Settings:
    settings = get_settings()
    return Pop3Settings(
        timeout=settings.imap_timeout_seconds,
        command_timeout=settings.imap_command_timeout_seconds,
        min_bytes_per_second=settings.imap_min_bytes_per_second,
        **_server(account, box, "pop3"),
    )


def smtp_settings(account: EmailAccount, box: SecretBox) -> SmtpSettings:
    return SmtpSettings(timeout=get_settings().smtp_timeout_seconds, **_server(account, box, "smtp"))
