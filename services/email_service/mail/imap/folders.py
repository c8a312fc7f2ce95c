"""Folder roles from SPECIAL-USE flags, with a name fallback for servers that do not send them."""

from __future__ import annotations

from collections.abc import Iterable

from imapclient import imap_utf7

from email_service.mail.imap.types import FolderInfo

ROLE_BY_FLAG = {
    "\\sent": "sent",
    "\\trash": "trash",
    "\\junk": "junk",
    "\\drafts": "drafts",
    "\\archive": "archive",
    "\\all": "all",
    "\\flagged": "flagged",
}
# Lower-cased leaf names used by common servers and clients (Outlook, Apple, Yahoo, Gmail, Courier).
ROLE_BY_NAME = {
    "sent": "sent",
    "sent items": "sent",
    "sent messages": "sent",
    "sent mail": "sent",
    "trash": "trash",
    "deleted items": "trash",
    "deleted messages": "trash",
    "bin": "trash",
    "junk": "junk",
    "junk e-mail": "junk",
    "junk email": "junk",
    "spam": "junk",
    "bulk mail": "junk",
    "drafts": "drafts",
    "draft": "drafts",
    "archive": "archive",
    "archives": "archive",
}
UNSELECTABLE = frozenset({"\\noselect", "\\nonexistent"})


def _leaf(name: str, delimiter: str | None) -> str:
    """Last path component; top-level children of INBOX (INBOX.Sent) count as top level."""
    parts = name.split(delimiter) if delimiter else [name]
    if len(parts) == 2 and parts[0].upper() == "INBOX":
        return parts[1]
    return name if len(parts) > 1 else parts[0]


def assign_roles(raw: Iterable[tuple[tuple[str, ...], str | None, str]]) -> list[FolderInfo]:
    """(flags, delimiter, name) from LIST -> selectable FolderInfo; flags win, names fill the gaps once."""
    rows = [(flags, delim, name) for flags, delim, name in raw if not UNSELECTABLE & _lower(flags)]
    roles: list[str | None] = []
    for flags, _delim, name in rows:
        role = "inbox" if name.upper() == "INBOX" else None
        for flag in _lower(flags):
            role = role or ROLE_BY_FLAG.get(flag)
        roles.append(role)
    taken = {r for r in roles if r}
    for i, (_flags, delim, name) in enumerate(rows):
        guess = ROLE_BY_NAME.get(_leaf(name, delim).lower())
        if roles[i] is None and guess and guess not in taken:
            roles[i] = guess
            taken.add(guess)
    return [
        FolderInfo(name=name, delimiter=delim, flags=flags, role=role)
        for (flags, delim, name), role in zip(rows, roles, strict=True)
    ]


def _lower(flags: Iterable[str]) -> frozenset[str]:
    return frozenset(f.lower() for f in flags)


def quote_mailbox(name: str) -> bytes:
    """Encode a folder name (modified UTF-7) as an IMAP quoted string for raw commands.

    Modified UTF-7 base64-encodes every character outside printable ASCII, CR, LF and NUL included,
    so a name can never split the command line (the connection refuses such a line anyway).
    """
    if name.upper() == "INBOX":
        name = "INBOX"
    encoded = imap_utf7.encode(name)
    return b'"' + encoded.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
