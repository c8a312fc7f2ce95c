"""Gmail's IMAP extension (X-GM-EXT-1) FETCH items: X-GM-THRID, X-GM-MSGID and X-GM-LABELS.

Values come from the wire parser as tokens (bytes atoms or strings, lists of them); anything
malformed is dropped rather than raised, so a message still syncs with its headers alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imapclient import imap_utf7

if TYPE_CHECKING:  # wire imports this module; the alias is only needed for annotations
    from email_service.mail.imap.wire import Token

MAX_LABELS = 200  # a hostile server cannot make one row's labels unbounded
MAX_LABEL_CHARS = 500
# Asked for with every full message and every flags fetch on a server that advertises X-GM-EXT-1.
MESSAGE_ITEMS = b" X-GM-THRID X-GM-MSGID X-GM-LABELS"
FLAG_ITEMS = b" X-GM-LABELS"


def gm_id(value: Token) -> str | None:
    """X-GM-THRID / X-GM-MSGID: a 64-bit unsigned number as text; anything else is None."""
    if not isinstance(value, bytes) or not value.isdigit() or len(value) > 20:
        return None
    number = int(value)
    return str(number) if 0 < number < 2**64 else None


def gm_labels(value: Token) -> tuple[str, ...] | None:
    """X-GM-LABELS (a list of atoms, quoted strings or literals) as text; None when not a list.

    Labels are mailbox names, so non-ASCII ones arrive in modified UTF-7 (RFC 3501 5.1.3);
    system labels keep their backslash (\\Inbox, \\Important). Duplicates and NIL are dropped.
    """
    if not isinstance(value, list):
        return None
    out: list[str] = []
    for item in value:
        if not isinstance(item, bytes) or not item:
            continue
        label = _decode(item)[:MAX_LABEL_CHARS]
        if label and label not in out:
            out.append(label)
        if len(out) >= MAX_LABELS:
            break
    return tuple(out)


def _decode(raw: bytes) -> str:
    """Modified UTF-7 when it is valid, else the bytes as UTF-8 (some servers send raw UTF-8)."""
    try:
        text = imap_utf7.decode(raw)
    except (ValueError, UnicodeError):
        text = raw.decode("utf-8", "replace")
    return text.replace("\x00", "")
