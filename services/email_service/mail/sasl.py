"""SASL for OAuth2 bearer tokens, shared by the IMAP and SMTP adapters.

OAUTHBEARER (RFC 7628) is the standard one and wins when a server offers both; XOAUTH2 is Google's and
Microsoft's older mechanism, which many servers still offer alone. Both carry the account's username.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from email_service.mail.wire_text import has_line_break

Mechanism = Literal["OAUTHBEARER", "XOAUTH2"]
PREFERENCE: tuple[Mechanism, ...] = ("OAUTHBEARER", "XOAUTH2")


class NoBearerMechanism(Exception):
    """The server advertises neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2."""


def choose_mechanism(advertised: Iterable[str]) -> Mechanism:
    """OAUTHBEARER when advertised, else XOAUTH2 (names compared case-insensitively)."""
    offered = {name.upper() for name in advertised}
    for mechanism in PREFERENCE:
        if mechanism in offered:
            return mechanism
    raise NoBearerMechanism("the server offers neither OAUTHBEARER nor XOAUTH2 authentication")


def check_bearer(username: str, token: str) -> None:
    """The payload separators are ^A; a CR, LF, NUL or ^A inside the values would forge fields."""
    if has_line_break(username) or has_line_break(token) or "\x01" in username + token:
        raise ValueError("username or access token contains CR, LF, NUL or ^A; refused before sending")


def xoauth2_payload(username: str, token: str) -> bytes:
    """user=<u>^Aauth=Bearer <t>^A^A (before base64)."""
    check_bearer(username, token)
    return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer_payload(username: str, token: str, host: str = "", port: int = 0) -> bytes:
    """RFC 7628 §3.1: a GS2 header naming the user, then host/port (optional) and auth key-values."""
    check_bearer(username, token)
    authzid = username.replace("=", "=3D").replace(",", "=2C")
    pairs = (f"host={host}\x01" if host else "") + (f"port={port}\x01" if port else "")
    return f"n,a={authzid},\x01{pairs}auth=Bearer {token}\x01\x01".encode()
