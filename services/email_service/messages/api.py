"""Reading mail: GET /api/email/messages, one message, its raw source and an attachment download."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.core.config import get_settings
from email_service.core.errors import BadRequest
from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import limit_arg
from email_service.messages import service, use_cases
from email_service.messages.labels import MAX_LABEL_CHARS
from email_service.messages.raw import raw_source
from email_service.messages.schemas import (
    MAX_ID_CHARS,
    MAX_TERM_CHARS,
    MessageDetail,
    MessagePageView,
    MessageQuery,
)
from email_service.messages.search.query import MAX_QUERY_CHARS, NO_SEARCH, parse_query

bp = Blueprint("messages", __name__, url_prefix="/api/email/messages")

BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
# RFC 5987 attr-char beyond what quote() always leaves alone (letters, digits, "_.-~").
ATTR_CHARS = "!#$&+^`|"


def _flag_arg(name: str) -> bool | None:
    raw = request.args.get(name, "")
    if raw == "":
        return None
    if raw.lower() not in BOOLEANS:
        raise BadRequest(f"{name} must be true or false", {"field": name})
    return BOOLEANS[raw.lower()]


def _text_arg(name: str, max_chars: int = MAX_TERM_CHARS) -> str | None:
    raw = request.args.get(name, "").strip()
    if len(raw) > max_chars:
        raise BadRequest(f"{name} must be at most {max_chars} characters", {"field": name})
    return raw or None


def filters_from_request() -> service.MessageFilter:
    """The listing filters of the query string (shared with the threads listing)."""
    substring = get_settings().search_mode == "substring"
    return service.MessageFilter(
        account_id=_text_arg("account_id", MAX_ID_CHARS),
        folder_id=_text_arg("folder_id", MAX_ID_CHARS),
        unread=_flag_arg("unread"),
        flagged=_flag_arg("flagged"),
        sender=_text_arg("from"),
        label=_text_arg("label", MAX_LABEL_CHARS),
        text=_text_arg("q", MAX_QUERY_CHARS) if substring else None,
        # Unknown operators, malformed dates, over-long queries: 422 with the error JSON.
        search=NO_SEARCH if substring else parse_query(request.args.get("q")),
    )


@bp.get("")
@documented(200, MessagePageView, 400, 404, 422, tag="messages", query=MessageQuery)
def index() -> ResponseReturnValue:
    """The caller's messages, newest first, cursor-paginated."""
    filters, cursor = filters_from_request(), request.args.get("cursor") or None
    limit = limit_arg(service.DEFAULT_LIMIT, service.MAX_LIMIT)
    page = use_cases.message_page(current_caller(), filters, cursor, limit)
    return jsonify({"items": page.items, "next_cursor": page.next_cursor})


@bp.get("/<message_id>")
@documented(200, MessageDetail, 404, tag="messages")
def show(message_id: str) -> ResponseReturnValue:
    """One message in full: headers, text, sanitised html, attachments, flags, spam fields."""
    return jsonify(use_cases.message_view(current_caller(), message_id))


@bp.get("/<message_id>/attachments/<attachment_id>")
@documented(200, None, 404, tag="messages", binary=True)
def download(message_id: str, attachment_id: str) -> ResponseReturnValue:
    """Attachment bytes, always as a download."""
    file = use_cases.attachment_file(current_caller(), message_id, attachment_id)
    return _download(file.content, safe_media_type(file.content_type), file.filename)


@bp.get("/<message_id>/raw")
@documented(200, None, 404, 409, tag="messages", binary=True)
def raw(message_id: str) -> ResponseReturnValue:
    """The message's exact bytes from the server (message/rfc822), always as a download."""
    source = raw_source(current_caller(), message_id)
    return _download(source.content, "message/rfc822", source.filename)


def _download(content: bytes, media_type: str, filename: str) -> Response:
    """Mail the caller received, served so a browser saves it and never runs it in our origin."""
    response = Response(content, content_type=media_type)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even if a browser renders it, a sandboxed document cannot run script in our origin.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def safe_media_type(stored: str) -> str:
    """The stored type without parameters, if well-formed; otherwise opaque bytes."""
    media_type = (stored or "").split(";", 1)[0].strip().lower()
    return media_type if MEDIA_TYPE.match(media_type) else "application/octet-stream"


def _clean_filename(filename: str) -> str:
    """Drop directories and control characters; what the sender named it is otherwise kept."""
    base = re.split(r"[/\\]", filename or "")[-1]
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return cleaned[:255] or "attachment"


def content_disposition(filename: str) -> str:
    """Always `attachment` (never inline) with an ASCII fallback and an RFC 5987 UTF-8 name."""
    name = _clean_filename(filename)
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;%' else "_" for ch in name)
    encoded = quote(name, safe=ATTR_CHARS)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
