"""POST /api/accounts/<id>/test: log in to IMAP and SMTP and say which failed and why."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from email_service.accounts.mail_settings import imap_settings, smtp_settings
from email_service.accounts.model import EmailAccount
from email_service.core.crypto import SecretBox
from email_service.mail.imap.client import ImapAuthError, ImapError, connect
from email_service.mail.imap.types import ImapHostRefused, ImapTlsError
from email_service.mail.smtp.client import (
    SmtpAuthError,
    SmtpError,
    SmtpHostRefused,
    SmtpTlsError,
    check_login,
)

# The first matching class names the reason; any other adapter or socket error is connection_failed.
# Host refusals come first: ImapHostRefused subclasses ImapAuthError.
Reasons = tuple[tuple[type[Exception], str], ...]
_IMAP_REASONS: Reasons = (
    (ImapHostRefused, "host_not_allowed"),
    (ImapTlsError, "certificate_refused"),
    (ImapAuthError, "authentication_failed"),
)
_SMTP_REASONS: Reasons = (
    (SmtpHostRefused, "host_not_allowed"),
    (SmtpTlsError, "certificate_refused"),
    (SmtpAuthError, "authentication_failed"),
)


def _check(probe: Callable[[], dict[str, Any]], errors: type[Exception], reasons: Reasons) -> dict[str, Any]:
    try:
        return probe()
    except (errors, OSError) as exc:
        reason = next((name for cls, name in reasons if isinstance(exc, cls)), "connection_failed")
        return {"ok": False, "reason": reason, "message": str(exc) or type(exc).__name__}


def _imap_login(account: EmailAccount, box: SecretBox) -> dict[str, Any]:
    with connect(imap_settings(account, box)) as session:
        return {"ok": True, "capabilities": sorted(session.capabilities)}


def _smtp_login(account: EmailAccount, box: SecretBox) -> dict[str, Any]:
    check_login(smtp_settings(account, box))
    return {"ok": True}


def test_account_connection(account: EmailAccount, box: SecretBox) -> dict[str, Any]:
    imap = _check(lambda: _imap_login(account, box), ImapError, _IMAP_REASONS)
    smtp = _check(lambda: _smtp_login(account, box), SmtpError, _SMTP_REASONS)
    return {"ok": imap["ok"] and smtp["ok"], "imap": imap, "smtp": smtp}
