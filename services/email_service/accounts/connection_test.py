"""POST /api/accounts/<id>/test: log in to IMAP and SMTP and say which failed and why.

The endpoint answers synchronously (DESIGN §7), so both logins run under one hard deadline
(CONNECTION_TEST_SECONDS, at most 15 s, half for each side: connect, TLS, login and logout), and every
message is in our own fixed words: echoing the remote's bytes let a tenant probe any host and port.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

from email_service.accounts.mail_settings import imap_settings, pop3_settings, smtp_settings
from email_service.accounts.model import EmailAccount
from email_service.core.config import get_settings
from email_service.core.crypto import SecretBox
from email_service.core.deadline import Deadline, deadline
from email_service.mail.imap.client import ImapAuthError, ImapError, connect
from email_service.mail.imap.types import ImapHostRefused, ImapTlsError
from email_service.mail.pop3.client import Pop3Session
from email_service.mail.smtp.client import (
    SmtpAuthError,
    SmtpError,
    SmtpHostRefused,
    SmtpTlsError,
    check_login,
)

TIMED_OUT = ("timed_out", "connection timed out")
CONNECTION_FAILED = ("connection_failed", "connection failed")
TLS_FAILED = ("tls_failed", "TLS handshake failed")
AUTH_FAILED = ("authentication_failed", "authentication failed")
UNEXPECTED = ("connection_failed", "unexpected server response")

# The first matching class names the reason. Host refusals come first (ImapHostRefused subclasses
# ImapAuthError); their messages and the certificate's are written by our own policy code (they name
# the configured host and how to pin), never by the remote, so they are kept.
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
_OWN_MESSAGES = {"host_not_allowed", "certificate_refused"}


def _describe(exc: BaseException, reasons: Reasons, budget: Deadline) -> tuple[str, str]:
    """(reason, message) in fixed words; only our policy's own messages pass through."""
    reason = next((name for cls, name in reasons if isinstance(exc, cls)), None)
    if reason in _OWN_MESSAGES:
        return reason, str(exc) or reason.replace("_", " ")
    if reason == "authentication_failed":
        return AUTH_FAILED
    if budget.expired or isinstance(exc, TimeoutError) or "timed out" in str(exc).lower():
        return TIMED_OUT
    if isinstance(exc, ssl.SSLError) or isinstance(exc.__cause__, ssl.SSLError):
        return TLS_FAILED
    if isinstance(exc, (ConnectionError, OSError)) and not isinstance(exc, ssl.SSLError):
        return CONNECTION_FAILED
    return UNEXPECTED


def _check(
    probe: Callable[[], dict[str, Any]], errors: type[Exception], reasons: Reasons, seconds: float
) -> dict[str, Any]:
    """One side within `seconds` (half the budget: a silent IMAP host cannot starve the SMTP check)."""
    with deadline(seconds) as budget:
        try:
            return probe()
        except (errors, OSError, EOFError) as exc:
            reason, message = _describe(exc, reasons, budget)
            return {"ok": False, "reason": reason, "message": message}


def _imap_login(account: EmailAccount, box: SecretBox) -> dict[str, Any]:
    """The incoming server's login; for a POP3 account that is USER/PASS (reported under "imap")."""
    if account.protocol == "pop3":
        with Pop3Session(pop3_settings(account, box)):
            return {"ok": True, "capabilities": []}
    with connect(imap_settings(account, box)) as session:
        return {"ok": True, "capabilities": sorted(session.capabilities)}


def _smtp_login(account: EmailAccount, box: SecretBox) -> dict[str, Any]:
    check_login(smtp_settings(account, box))
    return {"ok": True}


def test_account_connection(account: EmailAccount, box: SecretBox) -> dict[str, Any]:
    half = get_settings().connection_test_seconds / 2
    imap = _check(lambda: _imap_login(account, box), ImapError, _IMAP_REASONS, half)
    smtp = _check(lambda: _smtp_login(account, box), SmtpError, _SMTP_REASONS, half)
    return {"ok": imap["ok"] and smtp["ok"], "imap": imap, "smtp": smtp}
