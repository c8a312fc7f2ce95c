"""POST /api/accounts/<id>/test: log in to IMAP and SMTP and say which failed and why."""

from __future__ import annotations

from typing import Any

from email_service.crypto import SecretBox
from email_service.mail.imap import ImapAuthError, ImapError, connect
from email_service.mail.imap_types import ImapHostRefused, ImapTlsError
from email_service.mail.smtp import SmtpAuthError, SmtpError, SmtpHostRefused, SmtpTlsError, check_login
from email_service.models import EmailAccount
from email_service.services.mail_settings import imap_settings, smtp_settings


def _imap_check(account: EmailAccount, box: SecretBox) -> dict[str, Any]:
    try:
        with connect(imap_settings(account, box)) as session:
            capabilities = sorted(session.capabilities)
    except ImapHostRefused as exc:
        return {"ok": False, "reason": "host_not_allowed", "message": str(exc)}
    except ImapTlsError as exc:
        return {"ok": False, "reason": "certificate_refused", "message": str(exc)}
    except ImapAuthError as exc:
        return {"ok": False, "reason": "authentication_failed", "message": str(exc)}
    except (ImapError, OSError) as exc:
        return {"ok": False, "reason": "connection_failed", "message": str(exc) or type(exc).__name__}
    return {"ok": True, "capabilities": capabilities}


def _smtp_check(account: EmailAccount, box: SecretBox) -> dict[str, Any]:
    try:
        check_login(smtp_settings(account, box))
    except SmtpHostRefused as exc:
        return {"ok": False, "reason": "host_not_allowed", "message": str(exc)}
    except SmtpTlsError as exc:
        return {"ok": False, "reason": "certificate_refused", "message": str(exc)}
    except SmtpAuthError as exc:
        return {"ok": False, "reason": "authentication_failed", "message": str(exc)}
    except (SmtpError, OSError) as exc:
        return {"ok": False, "reason": "connection_failed", "message": str(exc) or type(exc).__name__}
    return {"ok": True}


def test_account_connection(account: EmailAccount, box: SecretBox) -> dict[str, Any]:
    imap = _imap_check(account, box)
    smtp = _smtp_check(account, box)
    return {"ok": imap["ok"] and smtp["ok"], "imap": imap, "smtp": smtp}
