"""Turn fetched messages into plain row dicts for bulk INSERT (no ORM objects on the hot path).

Runs in parse worker processes, so everything here is picklable and free of DB or IMAP state.
A message that cannot be parsed becomes a quarantine row (raw bytes + parse_error), never an error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from email_service.mail.imap.types import FetchedMessage
from email_service.mail.mime.parse import Address, ParsedMessage, parse_message

SEEN, FLAGGED, ANSWERED = "\\Seen", "\\Flagged", "\\Answered"
# Stored header fields are display copies, bounded so that a hostile header cannot make every listing
# row huge (a 1 MB Subject and a 20,000-address To were stored whole: 28 MB for one page of 50). The
# exact bytes stay on the IMAP server under the row's UID.
SUBJECT_MAX_CHARS = 2000  # the limit a send's subject has too
ADDRESSES_MAX_STORED = 100  # per To / Cc / Reply-To; MAX_RECIPIENTS defaults to 100 as well
HEADER_VALUE_MAX_CHARS = 4000  # each entry of the headers column (detail view only)
HEADERS_MAX_STORED = 200  # header names kept in the headers column
ATTACHMENT_NAMES_MAX_CHARS = 10_000  # the attachment names full-text search indexes (space-separated)
JSON_FIELDS = frozenset(
    {"to_addresses", "cc_addresses", "reply_to", "headers", "flags", "spam_indicators", "labels"}
)


@dataclass(frozen=True)
class RowContext:
    """Who and where: the columns every row of one folder batch shares."""

    tenant_id: str
    user_id: str
    account_id: str
    folder_id: str
    uidvalidity: int
    json_as_text: bool = False  # PostgreSQL fast path: encode JSON columns here, in the worker


@dataclass
class BuiltBatch:
    """Rows for one batch of fetched messages; attachments point at message ids in `messages`."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    max_uid: int = 0
    # message row id -> the server's conversation id (Gmail's X-GM-THRID), when it offers one
    server_threads: dict[str, str] = field(default_factory=dict)

    def extend(self, other: BuiltBatch) -> None:
        self.messages.extend(other.messages)
        self.attachments.extend(other.attachments)
        self.server_threads.update(other.server_threads)
        self.max_uid = max(self.max_uid, other.max_uid)


def clean(text: str | None, limit: int | None = None) -> str:
    """PostgreSQL text rejects NUL and lone surrogates; varchar(n) rejects overlong values."""
    if not text:
        return ""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit is not None else text


def clean_or_none(text: str | None, limit: int | None = None) -> str | None:
    return clean(text, limit) or None


def flag_columns(flags: Iterable[str]) -> dict[str, Any]:
    """The flags list plus the three booleans the listing filters on."""
    ordered = sorted(set(flags))
    lowered = {f.lower() for f in ordered}
    return {
        "flags": ordered,
        "is_read": SEEN.lower() in lowered,
        "is_flagged": FLAGGED.lower() in lowered,
        "is_answered": ANSWERED.lower() in lowered,
    }


def _addresses(items: Iterable[Address]) -> list[dict[str, str]]:
    """The first ADDRESSES_MAX_STORED addresses, each name and address bounded like the columns."""
    kept = []
    for index, a in enumerate(items):
        if index >= ADDRESSES_MAX_STORED:
            break
        kept.append({"name": clean(a.name, 500), "email": clean(a.email, 320)})
    return kept


def _headers(headers: dict[str, str]) -> dict[str, str]:
    """The first HEADERS_MAX_STORED headers, names and values bounded (the raw message keeps them all)."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if len(kept) >= HEADERS_MAX_STORED:
            break
        kept[clean(name, 200)] = clean(value, HEADER_VALUE_MAX_CHARS)
    return kept


def _base_row(ctx: RowContext, fetched: FetchedMessage, now: datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": ctx.tenant_id,
        "user_id": ctx.user_id,
        "account_id": ctx.account_id,
        "folder_id": ctx.folder_id,
        "uidvalidity": ctx.uidvalidity,
        "uid": fetched.uid,
        "modseq": fetched.modseq,
        "raw_size": fetched.size or len(fetched.raw),
        "created_at": now,
        "updated_at": now,
        "spam_indicators": [],
        "priority": 0,
        "labels": list(fetched.gm_labels),
        "gm_msgid": fetched.gm_msgid,
        **flag_columns(fetched.flags),
    }


def parsed_row(
    ctx: RowContext, fetched: FetchedMessage, parsed: ParsedMessage, now: datetime
) -> dict[str, Any]:
    """All listing and detail columns of a parsed message."""
    sender = parsed.from_
    return {
        **_base_row(ctx, fetched, now),
        "message_id_header": clean_or_none(parsed.message_id, 998),
        "in_reply_to": clean_or_none(parsed.in_reply_to, 998),
        "references": clean_or_none(" ".join(parsed.references)),
        "thread_id": clean_or_none(parsed.thread_id, 998),
        "subject": clean(parsed.subject, SUBJECT_MAX_CHARS),
        "from_name": clean(sender.name if sender else "", 500),
        "from_address": clean(sender.email if sender else "", 320),
        "to_addresses": _addresses(parsed.to),
        "cc_addresses": _addresses(parsed.cc),
        "reply_to": _addresses(parsed.reply_to),
        "date": parsed.date,
        "date_sort": parsed.date or fetched.internaldate or now,
        "snippet": clean(parsed.snippet, 300),
        "body_text": clean(parsed.text),
        "body_html": clean_or_none(parsed.html),
        "headers": _headers(parsed.headers),
        "raw": None,
        "parse_error": None,
        "has_attachments": any(not a.is_inline for a in parsed.attachments),
        "attachment_names": attachment_names(parsed),
    }


def attachment_names(parsed: ParsedMessage) -> str:
    """Every attachment's file name, for full-text search (the attachments are another table)."""
    names = " ".join(clean(a.filename, 500) for a in parsed.attachments if a.filename)
    return names[:ATTACHMENT_NAMES_MAX_CHARS]


def quarantine_row(ctx: RowContext, fetched: FetchedMessage, error: str, now: datetime) -> dict[str, Any]:
    """Keep the raw bytes and the reason, so nothing is lost and the sync goes on."""
    return {
        **_base_row(ctx, fetched, now),
        "message_id_header": None,
        "in_reply_to": None,
        "references": None,
        "thread_id": None,
        "subject": "",
        "from_name": "",
        "from_address": "",
        "to_addresses": [],
        "cc_addresses": [],
        "reply_to": [],
        "date": None,
        "date_sort": fetched.internaldate or now,
        "snippet": "",
        "body_text": "",
        "body_html": None,
        "headers": {},
        "raw": fetched.raw,
        "parse_error": clean(error, 2000) or "unparseable message",
        "has_attachments": False,
        "attachment_names": "",
    }


def attachment_rows(row: dict[str, Any], parsed: ParsedMessage) -> list[dict[str, Any]]:
    """Attachment rows (content kept) for one inserted message row."""
    return [
        {
            "id": str(uuid.uuid4()),
            "tenant_id": row["tenant_id"],
            "user_id": row["user_id"],
            "message_id": row["id"],
            "filename": clean(att.filename, 500),
            "content_type": clean(att.content_type, 255) or "application/octet-stream",
            "size": att.size,
            "content_id": clean_or_none(att.content_id, 500),
            "is_inline": att.is_inline,
            "is_upload": False,
            "content": att.content,
            "created_at": row["created_at"],
            "updated_at": row["created_at"],
        }
        for att in parsed.attachments
    ]


def build_rows(ctx: RowContext, messages: list[FetchedMessage]) -> BuiltBatch:
    """Parse each message; any failure quarantines that one message only."""
    now = datetime.now(UTC)
    out = BuiltBatch()
    for fetched in messages:
        out.max_uid = max(out.max_uid, fetched.uid)
        try:
            parsed = parse_message(fetched.raw)
            row = parsed_row(ctx, fetched, parsed, now)
            atts = attachment_rows(row, parsed)
        except Exception as exc:  # the parser has no exhaustive error contract; quarantine instead
            row = quarantine_row(ctx, fetched, f"{type(exc).__name__}: {exc}", now)
            atts = []
        out.messages.append(row)
        if fetched.gm_thread_id:
            out.server_threads[row["id"]] = fetched.gm_thread_id
        out.attachments.extend(atts)
    if ctx.json_as_text:
        for row in out.messages:
            for name in JSON_FIELDS:
                row[name] = json.dumps(row[name], ensure_ascii=False, separators=(",", ":"))
    return out
