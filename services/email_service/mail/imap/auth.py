"""IMAP login: LOGIN / AUTHENTICATE PLAIN with a password, OAUTHBEARER or XOAUTH2 with an access token.

A NO means the credentials are refused (permanent); BYE or an RFC 5530 code like [UNAVAILABLE] means
"try again later".
"""

from __future__ import annotations

import imaplib
import re

from imapclient import IMAPClient

from email_service.mail.imap.throttle import is_throttled, suggested_seconds
from email_service.mail.imap.types import ImapAuthError, ImapConnectionError, ImapError, ImapThrottled
from email_service.mail.sasl import NoBearerMechanism, check_bearer, choose_mechanism
from email_service.mail.wire_text import has_line_break

# Response codes that mean "try again later" rather than "wrong credentials" (RFC 5530).
TRANSIENT_CODES = re.compile(rb"\[(UNAVAILABLE|SERVERBUG|INUSE|LIMIT)\]|\bBYE\b")


def refused(exc: imaplib.IMAP4.error) -> ImapError:
    """The adapter's error for a failed login: transient for BYE and RFC 5530 codes, else auth."""
    return refusal(str(exc))


def refusal(reply: str) -> ImapError:
    """refused() for a server's reply text (the asyncio IDLE client has no imaplib exception)."""
    if is_throttled(reply):
        return ImapThrottled(f"login throttled: {reply}", suggested_seconds(reply))
    if TRANSIENT_CODES.search(reply.encode("utf-8", "replace")):
        return ImapConnectionError(f"login temporarily refused: {reply}")
    return ImapAuthError(f"login refused: {reply}")


def password_login(imap: imaplib.IMAP4, username: str, password: str) -> None:
    """LOGIN (AUTHENTICATE PLAIN for non-ASCII credentials)."""
    if has_line_break(username) or has_line_break(password):
        raise ImapAuthError("username or password contains CR, LF or NUL; refused before sending")
    try:
        if (username + password).isascii():
            imap.login(_quote(username), password)
        else:
            token = b"\0" + username.encode() + b"\0" + password.encode()
            imap.authenticate("PLAIN", lambda _challenge: token)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        raise refused(exc) from exc


def bearer_login(client: IMAPClient, username: str, token: str) -> str:
    """AUTHENTICATE OAUTHBEARER when the server advertises it, else XOAUTH2; returns the mechanism."""
    try:
        check_bearer(username, token)
        caps = client.capabilities()
        advertised = [cap.decode("ascii", "replace")[5:] for cap in caps if cap.upper().startswith(b"AUTH=")]
        mechanism = choose_mechanism(advertised)
    except (ValueError, NoBearerMechanism) as exc:
        raise ImapAuthError(str(exc)) from exc
    try:
        if mechanism == "OAUTHBEARER":
            client.oauthbearer_login(username, token)
        else:
            client.oauth2_login(username, token)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        raise refused(exc) from exc
    return mechanism


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
