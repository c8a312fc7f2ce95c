"""Parse raw inbound RFC 5322 messages into plain dataclasses for the sync engine and the spam scorer.

Hostile or broken input degrades gracefully: bounded part count and depth, tolerant decoding,
and MimeParseError only when not even headers can be read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from typing import Any

from email_service.mail.mime.addresses import (
    Address,
    decode_bytes,
    decode_header_value,
    fix_surrogates,
    normalize_msgid,
    parse_addresses,
    parse_date,
    parse_msgid_list,
)
from email_service.mail.mime.headers import bounded_references, kept_headers, raw_headers, thread_id
from email_service.mail.mime.large_parts import cut_large_bodies
from email_service.mail.sanitize.html import Link, extract_html, sanitize_html

__all__ = [
    "Address",
    "Link",
    "MimeParseError",
    "ParsedAttachment",
    "ParsedMessage",
    "decode_header_value",
    "html_to_text",
    "parse_message",
]

MAX_PARTS = 200
MAX_DEPTH = 20
MAX_HTML_CHARS = 2_000_000
SNIPPET_CHARS = 200

# Keep header values as raw strings: policy.default's header objects cost more than the whole parse.
_POLICY = policy.default.clone(header_factory=lambda name, value: value)

_FIRST_BOUNDARY = re.compile(rb"^--([^\s\"]{1,200})[ \t]*\r?$", re.MULTILINE)


class MimeParseError(Exception):
    """Raised when the bytes do not contain a readable message at all."""


@dataclass(frozen=True)
class ParsedAttachment:
    """A non-body part; content is kept whole, whatever its size."""

    filename: str
    content_type: str
    size: int
    content: bytes
    content_id: str | None
    is_inline: bool


@dataclass(frozen=True)
class ParsedMessage:
    """Everything the sync engine stores and the spam scorer reads about one message."""

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    thread_id: str
    subject: str
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime | None
    headers: dict[str, str]
    text: str
    html: str | None
    links: tuple[Link, ...]
    attachments: tuple[ParsedAttachment, ...]
    content_types: tuple[str, ...]
    snippet: str
    size: int
    defects: tuple[str, ...]
    unsafe_html: str | None = None  # original HTML for features and deferred sanitising; never render it


def html_to_text(html: str) -> str:
    """Readable plain text from HTML, for search, snippets and the spam model."""
    return extract_html(html).text


@dataclass
class _Body:
    """Accumulates what the part walk finds, in document order."""

    texts: list[str]
    htmls: list[str]
    attachments: list[ParsedAttachment]
    content_types: list[str]
    defects: list[str]
    large: Mapping[str, bytes] = field(default_factory=dict)  # placeholder payload -> decoded body


def _read_single_part(raw: bytes) -> Message | None:
    """A clean non-multipart message: parse only its header block, the rest is the payload verbatim.

    Same tree as the full parse (which joins a single part's body lines unchanged) without the per-line
    loop over the body, about half the parse time of a plain-text message. None: use the full parse.
    """
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = BytesParser(policy=_POLICY).parsebytes(raw[: end + 4])
    if head.defects or head.get_payload() != "" or head.get_content_maintype() in ("multipart", "message"):
        return None  # headers ended early (odd separator or a non-header line), or a nested structure
    head.set_payload(raw[end + 4 :].decode("ascii", "surrogateescape"))
    return head


def _parse_bytes(raw: bytes) -> Message:
    single = _read_single_part(raw)
    return single if single is not None else BytesParser(policy=_POLICY).parsebytes(raw)


def _read_tree(raw: bytes) -> tuple[Message, list[str], Mapping[str, bytes]]:
    """Parse the MIME tree; a structure that defeats the parser falls back to headers only.

    Large encoded bodies are decoded apart (see large_parts): the parser's line handling of a
    50 MB attachment would cost several times its size. The mapping gives them back by placeholder.
    """
    try:
        cut = cut_large_bodies(raw)
        if cut is not None:
            return _parse_bytes(cut.skeleton), [], cut.bodies
        return _parse_bytes(raw), [], {}
    except RecursionError:
        defect = "NestingTooDeep"
    except Exception as exc:  # the stdlib parser has no exhaustive error contract
        defect = f"ParserError:{type(exc).__name__}"
    try:
        headers_only = BytesHeaderParser(policy=_POLICY).parsebytes(raw)
    except Exception as exc:
        raise MimeParseError(f"unreadable message: {exc}") from exc
    headers_only.set_payload("")  # the body is what broke the parser; the caller keeps the raw bytes
    return headers_only, [defect], {}


def _payload(part: Message, large: Mapping[str, bytes]) -> bytes:
    """Decoded transfer encoding of a leaf part; broken encodings yield what could be decoded."""
    if large:
        placeholder = part.get_payload()
        if isinstance(placeholder, str) and placeholder in large:
            return large[placeholder]
    try:
        data = part.get_payload(decode=True)
    except Exception:  # malformed base64/quoted-printable or odd payload types
        return b""
    return data if isinstance(data, bytes) else b""


def _filename(part: Message) -> str:
    """Attachment name from Content-Disposition or Content-Type, RFC 2231 and RFC 2047 decoded."""
    if "content-disposition" not in part and "name" not in str(part.get("content-type", "")).lower():
        return ""  # no header that could carry a name: skip the costly parameter parsing
    try:
        name: Any = part.get_filename() or part.get_param("name")
    except Exception:  # broken RFC 2231 continuations
        return ""
    if isinstance(name, tuple):  # RFC 2231 value left undecoded by get_param
        name = decode_bytes(str(name[2]).encode("latin-1", "replace"), name[0])
    return decode_header_value(str(name)) if name else ""


def _attachment(part: Message, ctype: str, disposition: str | None, body: _Body) -> ParsedAttachment:
    """Build an attachment record; message/rfc822 parts are re-serialised to .eml bytes."""
    if part.is_multipart():
        inner = part.get_payload(0) if part.get_payload() else None
        try:
            content = inner.as_bytes(policy=policy.compat32) if isinstance(inner, Message) else b""
        except Exception:  # a broken embedded message cannot always be regenerated
            content = b""
    else:
        content = _payload(part, body.large)
    name = _filename(part)
    if not name:
        name = f"attachment-{len(body.attachments) + 1}{'.eml' if ctype.startswith('message/') else ''}"
    raw_cid = part.get("Content-ID")
    cid = fix_surrogates(str(raw_cid)).strip().strip("<>") or None if raw_cid else None
    inline = disposition == "inline" or (disposition is None and cid is not None)
    return ParsedAttachment(name, ctype, len(content), content, cid, inline)


def _leaf(part: Message, ctype: str, body: _Body) -> None:
    """Route one non-multipart part to the text, HTML or attachment list."""
    disposition = part.get_content_disposition()
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not _filename(part):
        text = decode_bytes(_payload(part, body.large), part.get_content_charset())
        (body.texts if ctype == "text/plain" else body.htmls).append(text)
    else:
        body.attachments.append(_attachment(part, ctype, disposition, body))


def _repair_multipart(part: Message) -> Message | None:
    """Re-split a multipart whose declared boundary never occurs, using the first '--' line seen."""
    payload = _payload(part, {})
    match = _FIRST_BOUNDARY.search(payload[:65536])
    if match is None:
        return None
    boundary = match.group(1).decode("ascii", "replace")
    head = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode("ascii", "replace")
    try:
        repaired = BytesParser(policy=_POLICY).parsebytes(head + payload)
    except Exception:  # same failure modes as the first parse; give up on repair
        return None
    return repaired if repaired.is_multipart() else None


def _walk(root: Message, large: Mapping[str, bytes]) -> _Body:
    """Depth-first walk with hard caps on part count and nesting depth."""
    body = _Body([], [], [], [], [], large)
    stack: list[tuple[Message, int]] = [(root, 0)]
    while stack:
        part, depth = stack.pop()
        if len(body.content_types) >= MAX_PARTS:
            body.defects.append("TooManyParts")
            break
        ctype = part.get_content_type()
        body.content_types.append(ctype)
        body.defects.extend(type(d).__name__ for d in part.defects)
        if not part.is_multipart() and ctype.startswith("multipart/"):
            repaired = _repair_multipart(part)
            if repaired is not None and depth < MAX_DEPTH:
                stack.append((repaired, depth + 1))
            else:
                body.texts.append(decode_bytes(_payload(part, large), part.get_content_charset()))
        elif not part.is_multipart():
            _leaf(part, ctype, body)
        elif ctype.startswith("message/"):
            body.attachments.append(_attachment(part, ctype, "attachment", body))
        elif depth >= MAX_DEPTH:
            body.defects.append("NestingTooDeep")
        else:
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))
    return body


def _snippet(text: str) -> str:
    """First ~200 characters of the text, whitespace collapsed."""
    return " ".join(text[: SNIPPET_CHARS * 8].split())[:SNIPPET_CHARS]  # split() = runs of \s


def parse_message(raw: bytes, *, sanitize: bool = True) -> ParsedMessage:
    """Parse raw message bytes; sanitize=False skips bleach (html=None) for callers that need speed."""
    if not isinstance(raw, bytes | bytearray | memoryview) or not bytes(raw).strip():
        raise MimeParseError("empty or non-bytes message")
    raw = bytes(raw)
    msg, defects, large = _read_tree(raw)
    first, received = raw_headers(msg)
    body = _walk(msg, large)
    del large
    raw_html = "\n".join(body.htmls)[:MAX_HTML_CHARS] if body.htmls else None
    extract = extract_html(raw_html) if raw_html else None
    text = "\n\n".join(body.texts).replace("\r\n", "\n")
    if not text.strip() and extract is not None:
        text = extract.text
    subject = decode_header_value(first.get("subject", ""))
    senders = parse_addresses(first.get("from")) or parse_addresses(first.get("sender"))
    references = bounded_references(parse_msgid_list(first.get("references")))
    in_reply_to = normalize_msgid(first.get("in-reply-to"))
    message_id = normalize_msgid(first.get("message-id"))
    sender_email = senders[0].email if senders else ""
    return ParsedMessage(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        thread_id=thread_id(references, in_reply_to, message_id, subject, sender_email),
        subject=subject,
        from_=senders[0] if senders else None,
        to=parse_addresses(first.get("to")),
        cc=parse_addresses(first.get("cc")),
        bcc=parse_addresses(first.get("bcc")),
        reply_to=parse_addresses(first.get("reply-to")),
        date=parse_date(first.get("date")),
        headers=kept_headers(first, received),
        text=text,
        html=sanitize_html(raw_html) if raw_html and sanitize else None,
        links=extract.links if extract else (),
        attachments=tuple(body.attachments),
        content_types=tuple(body.content_types),
        snippet=_snippet(text),
        size=len(raw),
        defects=tuple(dict.fromkeys(defects + body.defects)),
        unsafe_html=raw_html,
    )
