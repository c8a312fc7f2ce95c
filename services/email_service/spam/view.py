"""One flat, parser-independent view of a message that both the features and the indicators read.

Built from the sync's ParsedMessage plus a few raw headers, or from the raw bytes alone when
parsing failed, so unparseable mail is still scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr

from email_service.mail.mime.parse import ParsedMessage, html_to_text

MAX_TEXT_CHARS = 20_000
_RAW_HEADERS = ("Received", "Received-SPF", "Authentication-Results", "Return-Path", "Message-ID", "X-Mailer")
_HTML_TAG = re.compile(rb"<\s*(html|body|div|table|a\s|font|p[\s>])", re.IGNORECASE)
_HREF = re.compile(r"""<a\s[^>]*href\s*=\s*["']?([^"'\s>]+)[^>]*>(.*?)</a>""", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class AttachmentInfo:
    """What the scorer needs of an attachment: its name, declared type and size."""

    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MessageView:
    """Normalised fields for scoring; header lists keep every occurrence of repeatable headers."""

    subject: str
    text: str
    from_name: str
    from_email: str
    reply_to: tuple[str, ...]
    message_id: str
    headers: dict[str, tuple[str, ...]]
    links: tuple[tuple[str, str], ...]
    attachments: tuple[AttachmentInfo, ...]
    content_types: tuple[str, ...]
    has_html: bool
    has_form: bool
    parse_failed: bool
    to: tuple[str, ...] = ()  # recipient addresses (To and Cc), lower case

    def header(self, name: str) -> str:
        """The first value of a header, '' when absent."""
        values = self.headers.get(name.lower(), ())
        return values[0] if values else ""


def raw_headers(raw: bytes | None, names: tuple[str, ...] = _RAW_HEADERS) -> dict[str, tuple[str, ...]]:
    """Read the few headers the parser does not keep (all Received lines), lower-cased names."""
    if not raw:
        return {}
    try:
        msg: Message = BytesHeaderParser(policy=compat32).parsebytes(raw[:200_000])
    except Exception:  # stdlib header parsing of hostile bytes; anything is possible
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for name in names:
        values = msg.get_all(name) or []
        if values:
            found[name.lower()] = tuple(str(v)[:2000] for v in values)
    return found


def _has_form(raw: bytes | None, html: str | None) -> bool:
    """HTML forms in mail are a phishing tell; the sanitised html may drop them, so check raw too."""
    if raw is not None and re.search(rb"<\s*form[\s>]", raw[:500_000], re.IGNORECASE):
        return True
    return bool(html and re.search(r"<\s*form[\s>]", html, re.IGNORECASE))


def view_from_parsed(parsed: ParsedMessage, raw: bytes | None = None) -> MessageView:
    """Combine the parser's output with the raw Received/auth headers."""
    headers: dict[str, tuple[str, ...]] = {k.lower(): (v,) for k, v in parsed.headers.items()}
    if "received" in headers:  # the parser joins the first few Received values with newlines
        headers["received"] = tuple(headers["received"][0].split("\n"))
    headers.update(raw_headers(raw))
    if parsed.message_id and "message-id" not in headers:
        headers["message-id"] = (parsed.message_id,)
    sender = parsed.from_
    return MessageView(
        subject=parsed.subject or "",
        text=(parsed.text or "")[:MAX_TEXT_CHARS],
        from_name=sender.name if sender else "",
        from_email=(sender.email if sender else "").lower(),
        reply_to=tuple(a.email.lower() for a in parsed.reply_to if a.email),
        message_id=parsed.message_id or "",
        headers=headers,
        links=tuple((link.href, link.text) for link in parsed.links),
        attachments=tuple(
            AttachmentInfo(a.filename or "", a.content_type.lower(), a.size) for a in parsed.attachments
        ),
        content_types=tuple(ct.lower() for ct in parsed.content_types),
        has_html=parsed.html is not None or "text/html" in parsed.content_types,
        has_form=_has_form(raw, getattr(parsed, "unsafe_html", None) or parsed.html),
        parse_failed=False,
        to=tuple(a.email.lower() for a in (*parsed.to, *parsed.cc) if a.email),
    )


def view_from_raw(raw: bytes) -> MessageView:
    """Best-effort view of bytes the MIME parser rejected: raw text, raw links, raw headers."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    headers = raw_headers(head + b"\n\n", (*_RAW_HEADERS, "Subject", "From", "Reply-To"))
    from_name, from_email = parseaddr(headers.get("from", ("",))[0])
    _, reply_email = parseaddr(headers.get("reply-to", ("",))[0])
    text = body[: MAX_TEXT_CHARS * 2].decode("latin-1")
    links = tuple((href, html_to_text(label)) for href, label in _HREF.findall(text))
    has_html = bool(_HTML_TAG.search(body[:100_000]))
    if has_html:
        text = html_to_text(text)
    return MessageView(
        subject=headers.get("subject", ("",))[0],
        text=text[:MAX_TEXT_CHARS],
        from_name=from_name,
        from_email=from_email.lower(),
        reply_to=(reply_email.lower(),) if reply_email else (),
        message_id=headers.get("message-id", ("",))[0],
        headers=headers,
        links=links,
        attachments=(),
        content_types=(),
        has_html=has_html,
        has_form=_has_form(raw, None),
        parse_failed=True,
    )
