"""Header side of the MIME parse: raw first values, the kept selection, the conversation root."""

from __future__ import annotations

import hashlib
import re
from email.message import Message

from email_service.mail.mime.addresses import decode_header_value

MAX_HEADER_CHARS = 2000
MAX_RECEIVED = 5
# References kept per message: the root and the nearest ancestors are what threading needs, and a
# hostile header of 10,000 ids must not become 10,000 rows of the references table.
MAX_REFERENCES = 50
MAX_MSGID_CHARS = 250

_KEPT_HEADERS = (
    "Return-Path",
    "X-Mailer",
    "User-Agent",
    "Authentication-Results",
    "Received-SPF",
    "DKIM-Signature",
    "ARC-Authentication-Results",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
    "Precedence",
    "Auto-Submitted",
    "Content-Type",
    "MIME-Version",
    "Sender",
    "Organization",
    "X-Originating-IP",
    "X-Priority",
    "Importance",
)
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def raw_headers(msg: Message) -> tuple[dict[str, str], list[str]]:
    """First value of each header (lowercased name) and all Received values, without header objects."""
    first: dict[str, str] = {}
    received: list[str] = []
    for name, value in msg.raw_items():
        key = name.lower()
        if key == "received":
            if len(received) < MAX_RECEIVED:
                received.append(str(value))
        elif key not in first:
            first[key] = str(value)
    return first, received


def kept_headers(first: dict[str, str], received: list[str]) -> dict[str, str]:
    """The bounded, decoded header selection exposed to the frontend and the spam scorer."""
    kept: dict[str, str] = {}
    for name in _KEPT_HEADERS:
        value = first.get(name.lower())
        if value is not None:
            kept[name] = decode_header_value(value)[:MAX_HEADER_CHARS]
    if received:
        kept["Received"] = "\n".join(decode_header_value(r)[:MAX_HEADER_CHARS] for r in received)
    return kept


def thread_id(
    references: tuple[str, ...], in_reply_to: str | None, message_id: str | None, subject: str, sender: str
) -> str:
    """Root of the conversation; messages without ids group by normalised subject and sender."""
    if references:
        return references[0]
    if in_reply_to or message_id:
        return str(in_reply_to or message_id)
    key = f"{_SUBJECT_PREFIX.sub('', subject).strip().lower()}\x00{sender.lower()}"
    return "h:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]


def bounded_references(references: tuple[str, ...]) -> tuple[str, ...]:
    """The root plus the nearest ancestors, at most MAX_REFERENCES ids of at most MAX_MSGID_CHARS."""
    kept = tuple(ref for ref in references if len(ref) <= MAX_MSGID_CHARS)
    if len(kept) <= MAX_REFERENCES:
        return kept
    return kept[:1] + kept[-(MAX_REFERENCES - 1) :]
