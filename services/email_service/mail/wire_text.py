"""One rule for text that becomes part of a protocol line: no CR, LF or NUL ever reaches the wire.

A CR or LF inside a value ends the command line early and turns the rest into commands of the
caller's choosing (IMAP `a LOGIN "x"\r\nb DELETE INBOX`, SMTP `RCPT TO:<x>\r\nRCPT TO:<y>`); NUL is
refused by servers and splits SASL tokens. The API refuses such values (422); the adapters check
again so nothing that slipped past it is ever written.
"""

from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"[\r\n\x00]")
_LINE_BREAK_BYTES = re.compile(rb"[\r\n\x00]")


class UnsafeLineError(ValueError):
    """A value would split a protocol line; it is refused before anything is sent."""


def has_line_break(value: str | bytes) -> bool:
    """True when the value holds CR, LF or NUL."""
    pattern = _LINE_BREAK_BYTES if isinstance(value, bytes) else _LINE_BREAK
    return pattern.search(value) is not None  # type: ignore[arg-type]


def require_single_line(value: str | bytes, what: str) -> None:
    """Raise UnsafeLineError naming `what` (never the value: it may be a password)."""
    if has_line_break(value):
        raise UnsafeLineError(f"{what} contains CR, LF or NUL")
