"""Rebuild the scorer's view from a stored message row, for scoring after the sync has run.

The sync keeps a bounded header selection (Received, Return-Path, auth results...), the text, the
sanitised HTML and attachment metadata; raw bytes only for quarantined mail, which is re-parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from email_service.mail.sanitize.html import extract_html
from email_service.spam.model import Analysis, analyse_raw, analyse_view
from email_service.spam.view import MAX_TEXT_CHARS, AttachmentInfo, MessageView

_FORM = "<form"


@dataclass(frozen=True)
class StoredMessage:
    """Plain copy of the columns the scorer reads; no ORM object crosses into spam/."""

    subject: str = ""
    body_text: str = ""
    body_html: str | None = None
    from_name: str = ""
    from_address: str = ""
    reply_to: tuple[str, ...] = ()
    message_id: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    attachments: tuple[AttachmentInfo, ...] = ()
    raw: bytes | None = None


def _headers(stored: StoredMessage) -> dict[str, tuple[str, ...]]:
    """Lower-cased names; the sync joins up to five Received values with newlines."""
    headers: dict[str, tuple[str, ...]] = {
        k.lower(): (v,) for k, v in stored.headers.items() if isinstance(v, str)
    }
    if "received" in headers:
        headers["received"] = tuple(headers["received"][0].split("\n"))
    if stored.message_id:
        headers["message-id"] = (stored.message_id,)
    return headers


def _content_types(stored: StoredMessage) -> tuple[str, ...]:
    """Approximate the MIME walk: top-level type, body parts present, attachment types."""
    top = stored.headers.get("Content-Type", "text/plain").split(";", 1)[0].strip().lower()
    types = [top or "text/plain"]
    if stored.body_text:
        types.append("text/plain")
    if stored.body_html:
        types.append("text/html")
    types.extend(a.content_type for a in stored.attachments)
    return tuple(dict.fromkeys(types))


def view_from_stored(stored: StoredMessage) -> MessageView:
    """The same view the sync-time scorer would build, from what the database kept."""
    extract = extract_html(stored.body_html) if stored.body_html else None
    text = stored.body_text if stored.body_text.strip() or extract is None else extract.text
    return MessageView(
        subject=stored.subject,
        text=text[:MAX_TEXT_CHARS],
        from_name=stored.from_name,
        from_email=stored.from_address.lower(),
        reply_to=tuple(r.lower() for r in stored.reply_to if r),
        message_id=stored.message_id,
        headers=_headers(stored),
        links=tuple((link.href, link.text) for link in extract.links) if extract else (),
        attachments=stored.attachments,
        content_types=_content_types(stored),
        has_html=stored.body_html is not None,
        has_form=bool(stored.body_html and _FORM in stored.body_html.lower()),
        parse_failed=False,
    )


def analyse_stored(stored: StoredMessage) -> Analysis:
    """Quarantined rows still have their raw bytes: score those; otherwise the stored fields."""
    if stored.raw:
        return analyse_raw(stored.raw)
    return analyse_view(view_from_stored(stored))
