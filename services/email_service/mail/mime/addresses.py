"""Tolerant decoding of header values, charsets, addresses, dates and message ids.

Real mail breaks every RFC, so nothing here raises on bad input: it degrades to the best guess.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_BLANK_ONLY = re.compile(r"[ \t\r\n]*")
_FOLD = re.compile(r"\r?\n[ \t]*")
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_SURROGATES = re.compile("[\udc80-\udcff]")

# Labels mail clients use that Python does not know, or that are better read as a superset.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "x-sjis": "shift_jis",
    "iso-2022-jp": "iso2022_jp_ext",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "unknown": "utf-8",
    "default": "utf-8",
    "x-user-defined": "cp1252",
}


@dataclass(frozen=True)
class Address:
    """One mailbox from an address header; email is '' when only a name was given."""

    name: str
    email: str


def normalize_charset(charset: str | None) -> str | None:
    """Map a declared charset to a Python codec name, or None when it is unknown."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower().split("*", 1)[0]
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode with the declared charset, then UTF-8, then cp1252 with replacement; never raises."""
    codec = normalize_charset(charset)
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    if codec != "utf-8":
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if codec and codec not in ("utf-8", "cp1252"):
        try:
            return data.decode(codec, errors="replace")
        except LookupError:
            pass
    return data.decode("cp1252", errors="replace")


def fix_surrogates(value: str) -> str:
    """Turn raw 8-bit bytes smuggled in as surrogate escapes back into readable text."""
    if not _SURROGATES.search(value):
        return value
    return decode_bytes(value.encode("utf-8", errors="surrogateescape"))


def _decode_word(encoding: str, text: str) -> bytes:
    """Decode one encoded word's payload to bytes, tolerating bad padding and stray characters."""
    if encoding == "q":
        return binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    data = re.sub(r"[^A-Za-z0-9+/]", "", text)
    if len(data) % 4 == 1:
        data = data[:-1]
    return base64.b64decode(data + "=" * (-len(data) % 4))


def _encoded_chunks(value: str) -> list[tuple[str | None, str, str]]:
    """Split into (charset, encoding, text) runs; literal text has charset None."""
    chunks: list[tuple[str | None, str, str]] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        if between and not (chunks and chunks[-1][0] is not None and _BLANK_ONLY.fullmatch(between)):
            chunks.append((None, "", between))
        charset, encoding, text = match.group(1).lower(), match.group(2).lower(), match.group(3)
        previous = chunks[-1] if chunks else None
        # Some mailers split base64 mid-quantum across words: rejoin before decoding.
        if previous and previous[:2] == (charset, "b") and encoding == "b" and len(previous[2]) % 4:
            chunks[-1] = (charset, "b", previous[2] + text)
        else:
            chunks.append((charset, encoding, text))
        pos = match.end()
    chunks.append((None, "", value[pos:]))
    return chunks


_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")  # every control but TAB


def decode_header_value(value: str) -> str:
    """Decode RFC 2047 words (even malformed or unfolded ones) and raw 8-bit bytes into text."""
    if not value:
        return ""
    value = fix_surrogates(_FOLD.sub(" ", value))
    if "=?" not in value:
        return _one_line(value)
    out: list[str] = []
    pending: tuple[str, bytes] | None = None
    for charset, encoding, text in _encoded_chunks(value):
        if charset is not None and pending is not None and pending[0] == charset:
            pending = (charset, pending[1] + _decode_word(encoding, text))
            continue
        if pending is not None:
            out.append(decode_bytes(pending[1], pending[0]))
            pending = None
        if charset is None:
            out.append(text)
        else:
            pending = (charset, _decode_word(encoding, text))
    if pending is not None:
        out.append(decode_bytes(pending[1], pending[0]))
    return _one_line("".join(out))


def _one_line(text: str) -> str:
    """A decoded header is one line of text: CR/LF or other controls smuggled in encoded words
    (=?utf-8?Q?a=0D=0ABcc:...?=) would otherwise reach replies and forwards as new header lines."""
    return _CONTROLS.sub(" ", text).strip()


def parse_addresses(value: str | None) -> tuple[Address, ...]:
    """Parse an address list header; odd syntax yields what could be salvaged, never an error."""
    if not value:
        return ()
    raw = fix_surrogates(_FOLD.sub(" ", value))
    out: list[Address] = []
    try:
        pairs = getaddresses([raw])
    except (ValueError, IndexError, TypeError):
        pairs = [("", raw)]
    for name, addr in pairs:
        name = decode_header_value(name).strip().strip("\"'")
        addr = addr.strip().strip("<>")
        if "@" in addr:
            local, _, domain = addr.rpartition("@")
            addr = f"{local}@{domain.lower()}"
        if name or addr:
            out.append(Address(name=name, email=addr))
    return tuple(out)


def parse_date(value: str | None) -> datetime | None:
    """Parse a Date header into aware UTC; unparseable or absurd dates become None."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(fix_surrogates(value).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def normalize_msgid(value: str | None) -> str | None:
    """Return the first message id without angle brackets, lowercased, or None."""
    if not value:
        return None
    value = fix_surrogates(value)
    match = _MSG_ID.search(value)
    token = match.group(1) if match else (value.split() or [""])[0].strip("<>")
    return token.lower() or None


def parse_msgid_list(value: str | None) -> tuple[str, ...]:
    """Split a References/In-Reply-To header into normalised ids, order kept, duplicates dropped."""
    if not value:
        return ()
    value = fix_surrogates(value)
    ids = _MSG_ID.findall(value) or value.split()
    seen: dict[str, None] = {}
    for token in ids:
        token = token.strip("<>,").lower()
        if token:
            seen.setdefault(token, None)
    return tuple(seen)
