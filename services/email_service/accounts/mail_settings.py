"""Connection settings for an account's IMAP and SMTP servers, with the password decrypted in memory only."""

from __future__ import annotations

from email_service.accounts.model import EmailAccount
from email_service.accounts.service import account_password
from email_service.core.config import get_settings
from email_service.core.crypto import SecretBox
from email_service.mail.imap.client import ImapSettings
from email_service.mail.smtp.client import SmtpSettings


def imap_settings(account: EmailAccount, box: SecretBox) -> ImapSettings:
    return ImapSettings(
        host=account.imap_host,
        port=account.imap_port,
        security=account.imap_security,  # type: ignore[arg-type]
        username=account.username,
        password=account_password(box, account),
        timeout=get_settings().imap_timeout_seconds,
        pinned_cert_pem=account.pinned_cert_pem,
        allowed_private_hosts=get_settings().allowed_private_hosts,
    )


def smtp_settings(account: EmailAccount, box: SecretBox) -> SmtpSettings:
    return SmtpSettings(
        host=account.smtp_host,
        port=account.smtp_port,
        security=account.smtp_security,  # type: ignore[arg-type]
        username=account.username,
        password=account_password(box, account),
        timeout=get_settings().smtp_timeout_seconds,
        pinned_cert_pem=account.pinned_cert_pem,
        allowed_private_hosts=get_settings().allowed_private_hosts,
    )
