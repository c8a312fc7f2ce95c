"""Take large encoded leaf bodies out of a raw message before the stdlib parser sees it.

The stdlib parser splits every body into line strings and joins them again before decoding: a 68 MB
base64 attachment costs ~330 MB that way. Here the MIME structure is found by scanning the raw bytes for
the declared boundaries; each large base64 or quoted-printable leaf body is decoded straight from the raw
bytes in chunks and replaced by a short placeholder line, so the parser only sees a small skeleton.
Anything unusual returns None and the caller parses the message as it is.
"""

from __future__ import annotations

import binascii
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser

CUT_THRESHOLD = 1 << 20  # bodies smaller than this are left to the stdlib parser
CHUNK = 1 << 20  # encoded bytes decoded at a time
MAX_SCAN_DEPTH = 8  # multipart levels searched for large bodies
MAX_HEADER_BYTES = 64 * 1024

_POLICY = policy.default.clone(header_factory=lambda name, value: value)
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_EOL = (b"\r\n", b"\n")


@dataclass(frozen=True)
class CutMessage:
    """The skeleton to parse and, per placeholder payload, the decoded body it stands for."""

    skeleton: bytes
    bodies: dict[str, bytes]


@dataclass(frozen=True)
class _Cut:
    start: int
    end: int
    encoding: str


@dataclass(frozen=True)
class _Part:
    """One part of the raw message: raw[start:end], with its headers and where its body starts."""

    head: Message
    body: int
    end: int


def cut_large_bodies(raw: bytes) -> CutMessage | None:
    """The message with its large leaf bodies decoded and cut out; None: parse `raw` as it is."""
    if len(raw) < CUT_THRESHOLD or raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # small, or bare CR line ends (the parser splits lines there too)
    part = _read_part(raw, 0, len(raw))
    cuts = list(_cuts(raw, part, 0, ())) if part is not None else None
    if not cuts:
        return None
    nonce = secrets.token_hex(8)
    pieces: list[bytes] = []
    bodies: dict[str, bytes] = {}
    done = 0
    for index, cut in enumerate(cuts):
        decoded = decode_body(raw, cut.start, cut.end, cut.encoding)
        if decoded is None:
            return None
        token = f"[email-service large part {nonce} {index}]"
        bodies[token] = decoded
        pieces += [raw[done : cut.start], token.encode("ascii")]
        done = cut.end
    pieces.append(raw[done:])
    return CutMessage(b"".join(pieces), bodies)


def _read_part(raw: bytes, start: int, end: int) -> _Part | None:
    """Headers of raw[start:end] when they form a clean block ended by an empty line."""
    if raw.startswith(_EOL, start):
        body = start + (2 if raw.startswith(b"\r\n", start) else 1)
    else:
        limit = min(end, start + MAX_HEADER_BYTES)
        ends = [i for i in (raw.find(b"\n\r\n", start, limit), raw.find(b"\n\n", start, limit)) if i >= 0]
        if not ends:
            return None
        body = min(ends) + (3 if raw.startswith(b"\n\r\n", min(ends)) else 2)
    head = BytesParser(policy=_POLICY).parsebytes(raw[start:body], headersonly=True)
    if head.defects or head.get_payload() != "":
        return None  # a line the parser would not take as a header: its view of the part differs
    return _Part(head, body, end)


def _cuts(raw: bytes, part: _Part, depth: int, outer: tuple[str, ...]) -> Iterator[_Cut]:
    """Large leaf bodies under `part`, in document order (what the part walk will meet)."""
    if part.end - part.body < CUT_THRESHOLD:
        return
    maintype = part.head.get_content_maintype()
    if maintype == "multipart":
        if depth < MAX_SCAN_DEPTH and part.head.get_content_subtype() != "digest":
            yield from _children_cuts(raw, part, depth, outer)
        return
    encoding = str(part.head.get("content-transfer-encoding", "")).lower()
    if maintype != "message" and encoding in ("base64", "quoted-printable"):
        yield _Cut(part.body, part.end, encoding)


def _children_cuts(raw: bytes, part: _Part, depth: int, outer: tuple[str, ...]) -> Iterator[_Cut]:
    """Cuts inside each child between this multipart's delimiter lines (a closing one is required)."""
    spans = _child_spans(raw, part, outer)
    if spans is None:
        return
    boundary = part.head.get_boundary()
    for start, end in spans:
        if end - start < CUT_THRESHOLD:
            continue
        eol = 2 if raw.startswith(b"\r\n", end - 2) else 1  # belongs to the delimiter, as in the parser
        child = _read_part(raw, start, end - eol)
        if child is not None and boundary is not None:
            yield from _cuts(raw, child, depth + 1, (*outer, boundary))


def _child_spans(raw: bytes, part: _Part, outer: tuple[str, ...]) -> list[tuple[int, int]] | None:
    """(start, end) of each child, end at its following delimiter line; None unless closed normally."""
    boundary = part.head.get_boundary()
    if not boundary or boundary in outer:
        return None
    try:
        marker = re.escape(boundary.encode("ascii", "surrogateescape"))
    except UnicodeEncodeError:
        return None
    delimiter = re.compile(rb"^--" + marker + rb"(--)?[ \t]*\r?$", re.MULTILINE)
    spans: list[tuple[int, int]] = []
    start = None
    for match in delimiter.finditer(raw, part.body, part.end):
        if start is not None:
            spans.append((start, match.start()))
        if match.group(1):
            return spans
        start = match.end() + 1  # the delimiter line's LF
    return None


def decode_body(raw: bytes, start: int, end: int, encoding: str) -> bytes | None:
    """Decode raw[start:end] (base64 or quoted-printable) as the stdlib would; None when not clean."""
    if encoding == "base64":
        return _decode_base64(memoryview(raw)[start:end])
    return _decode_qp(raw, start, end)


def _decode_base64(data: memoryview) -> bytes | None:
    """Chunked a2b_base64 over CRLF-wrapped base64; any other stray character means None."""
    tail = bytes(data[-16:])
    kept = tail.rstrip(b"\r\n=")
    if tail.count(b"=", len(kept)) > 2:
        return None
    data = data[: len(data) - len(tail) + len(kept)]
    out = io.BytesIO()  # getvalue() hands its buffer over without a copy
    carry = b""
    for start in range(0, len(data), CHUNK):
        chunk = carry + bytes(data[start : start + CHUNK]).translate(None, b"\r\n")
        if chunk.translate(None, _B64_ALPHABET):
            return None
        whole = len(chunk) - len(chunk) % 4
        out.write(binascii.a2b_base64(chunk[:whole]))
        carry = chunk[whole:]
    if len(carry) == 1:
        return None  # the stdlib returns such a body undecoded
    if carry:
        out.write(binascii.a2b_base64(carry + b"=" * (4 - len(carry))))
    return out.getvalue()


def _decode_qp(raw: bytes, start: int, end: int) -> bytes:
    """Chunked a2b_qp, each chunk ending at a line end (a2b_qp keeps no state across lines)."""
    out = io.BytesIO()
    view = memoryview(raw)
    while start < end:
        stop = raw.rfind(b"\n", start, min(end, start + CHUNK)) + 1
        if stop <= start:  # a line longer than a chunk
            found = raw.find(b"\n", start + CHUNK, end)
            stop = end if found < 0 else found + 1
        out.write(binascii.a2b_qp(view[start:stop]))
        start = stop
    return out.getvalue()
