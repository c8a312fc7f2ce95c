"""Build outgoing RFC 5322 messages from a compose request, strictly (unlike the tolerant parser).

Addresses are validated so user input can never inject headers; Bcc goes to the envelope only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

__all__ = [
    "ComposeRequest",
    "ComposedMessage",
    "InvalidAddressError",
    "build_message",
    "parse_address_list",
    "validate_address",
]

_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MSG_ID = re.compile(r"<[^<>\s]+>")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")
# 7-bit output: any relay accepts it, with or without 8BITMIME.
_POLICY = policy.SMTP.clone(cte_type="7bit")


class InvalidAddressError(ValueError):
    """A user-supplied address is unusable; `field` names the form field (to, cc, from, ...)."""

    def __init__(self, field: str, value: str, reason: str = "invalid address") -> None:
        super().__init__(f"{field}: {reason}: {value!r}")
        self.field = field
        self.value = value


@dataclass(frozen=True)
class ComposeRequest:
    """What the user asked to send; address lists may hold 'Name <a@b>' forms."""

    from_address: str
    subject: str
    body_text: str
    to: Sequence[str] = ()
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()
    from_name: str = ""
    body_html: str | None = None
    attachments: Sequence[tuple[str, str, bytes]] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    message_id_domain: str | None = None
    date: datetime | None = field(default=None, compare=False)
    # Mail the system wrote (notifications): RFC 3834 says so, and vacation responders stay quiet.
    auto_submitted: bool = False
    # A draft for the Drafts folder: our own stable Message-ID, recipients optional, Bcc kept as a
    # header (other mail clients show and later send it from there).
    draft: bool = False
    message_id: str | None = None


@dataclass(frozen=True)
class ComposedMessage:
    """Wire-ready message plus the SMTP envelope (recipients include Bcc)."""

    message_id: str
    raw: bytes
    envelope_from: str
    recipients: tuple[str, ...]


def validate_address(addr: str, field: str = "address") -> str:
    """Return the normalised addr-spec (lower-case ASCII domain) or raise InvalidAddressError."""
    value = addr.strip()
    if _CONTROL.search(addr) or value.count("@") != 1:
        raise InvalidAddressError(field, addr)
    local, domain = value.split("@")
    if not _LOCAL_PART.fullmatch(local) or local.startswith(".") or local.endswith("."):
        raise InvalidAddressError(field, addr)
    if ".." in local or len(local) > 64:
        raise InvalidAddressError(field, addr)
    return f"{local}@{_validate_domain(domain, field, addr)}"


def _validate_domain(domain: str, field: str, original: str) -> str:
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidAddressError(field, original) from None
    labels = ascii_domain.split(".")
    if ascii_domain != "localhost" and len(labels) < 2:
        raise InvalidAddressError(field, original, "domain needs a dot")
    if len(ascii_domain) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidAddressError(field, original)
    return ascii_domain


def parse_address_list(values: Sequence[str], field: str = "to") -> list[tuple[str, str]]:
    """Split 'Name <a@b>, c@d' strings into (display name, addr-spec) pairs, rejecting bad input.

    An address repeated (case-insensitively) is kept once, with its first display name: the headers
    and the envelope are built from this list, and copies only made them longer.
    """
    result: list[tuple[str, str]] = []
    seen: set[str] = set()
    for value in values:
        if _CONTROL.search(value):
            raise InvalidAddressError(field, value, "control characters")
        if not value.strip():
            continue
        for name, addr in getaddresses([value]):
            if not addr:
                raise InvalidAddressError(field, value)
            checked = validate_address(addr, field)
            if checked.lower() not in seen:
                seen.add(checked.lower())
                result.append((name.strip(), checked))
    return result


def build_message(request: ComposeRequest) -> ComposedMessage:
    """Compose the MIME message and its envelope; raises InvalidAddressError on bad addresses."""
    sender = validate_address(request.from_address, "from")
    if _CONTROL.search(request.from_name):
        raise InvalidAddressError("from", request.from_name, "control characters in name")
    to = parse_address_list(request.to, "to")
    cc = parse_address_list(request.cc, "cc")
    bcc = parse_address_list(request.bcc, "bcc")
    recipients = _unique([addr for _name, addr in (*to, *cc, *bcc)])
    if not recipients and not request.draft:
        raise InvalidAddressError("to", "", "at least one recipient is required")

    domain = request.message_id_domain or sender.split("@")[1]
    message_id = request.message_id or make_msgid(domain=domain)
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = _header_address(request.from_name, sender)
    if to:
        msg["To"] = [_header_address(name, addr) for name, addr in to]
    if cc:
        msg["Cc"] = [_header_address(name, addr) for name, addr in cc]
    if bcc and request.draft:
        msg["Bcc"] = [_header_address(name, addr) for name, addr in bcc]
    msg["Subject"] = " ".join(request.subject.split())
    msg["Date"] = format_datetime(request.date or datetime.now(UTC))
    msg["Message-ID"] = message_id
    if request.auto_submitted:
        msg["Auto-Submitted"] = "auto-generated"
    _add_thread_headers(msg, request.in_reply_to, request.references)
    _set_body(msg, request.body_text, request.body_html)
    for filename, content_type, data in request.attachments:
        _attach(msg, filename, content_type, data)
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # the stdlib repeats it on every sub-part
    return ComposedMessage(message_id, msg.as_bytes(), sender, tuple(recipients))


def _header_address(name: str, addr: str) -> Address:
    local, domain = addr.split("@")
    return Address(display_name=" ".join(name.split()), username=local, domain=domain)


def _unique(addresses: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for addr in addresses:
        if addr.lower() not in seen:
            seen.add(addr.lower())
            result.append(addr)
    return result


def _clean_msgids(values: Sequence[str]) -> list[str]:
    """Keep well-formed <id> tokens; bare ids get brackets; anything else is dropped."""
    ids: list[str] = []
    for value in values:
        if _CONTROL.search(value):
            continue
        tokens = _MSG_ID.findall(value)
        if not tokens and value.strip() and not re.search(r"[\s<>]", value.strip()):
            tokens = [f"<{value.strip()}>"]
        ids.extend(token for token in tokens if token not in ids)
    return ids


def _add_thread_headers(msg: EmailMessage, in_reply_to: str | None, references: Sequence[str]) -> None:
    """Reply threading: In-Reply-To is the parent; References is the parent's chain plus the parent."""
    parent = _clean_msgids([in_reply_to]) if in_reply_to else []
    chain = [ref for ref in _clean_msgids(references) if ref not in parent] + parent
    if parent:
        msg["In-Reply-To"] = parent[0]
    if chain:
        msg["References"] = " ".join(chain)


def _set_body(msg: EmailMessage, text: str, html: str | None) -> None:
    if html is None:
        msg.set_content(text)
    elif not text:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")


def _attach(msg: EmailMessage, filename: str, content_type: str, data: bytes) -> None:
    """Attach bytes; a malformed content type degrades to application/octet-stream."""
    content_type = content_type.strip().lower()
    if not _CONTENT_TYPE.fullmatch(content_type):
        content_type = "application/octet-stream"
    maintype, subtype = content_type.split("/")
    if maintype in ("multipart", "message"):
        maintype, subtype = "application", "octet-stream"
    safe_name = " ".join(_CONTROL.sub(" ", filename).replace("/", "_").replace("\\", "_").split())
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=safe_name or "attachment")
