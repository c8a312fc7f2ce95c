"""Sending: POST /api/email/send, the outbox (list, cancel) and POST /api/attachments uploads."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.core.errors import BadRequest
from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import limit_arg, parse_body
from email_service.core.http.rate_limits import named_limit
from email_service.sending import use_cases
from email_service.sending.model import OUTBOX_STATES
from email_service.sending.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    MAX_OUTBOX_LIMIT,
    OutboxItem,
    OutboxList,
    OutboxQuery,
    SendAccepted,
    SendHeaders,
    SendRequest,
    UploadForm,
    UploadView,
)

bp = Blueprint("send", __name__, url_prefix="/api")

IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
MAX_LIMIT = MAX_OUTBOX_LIMIT


def _idempotency_key() -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    if not IDEMPOTENCY_KEY.match(raw):
        raise BadRequest(
            "Idempotency-Key must be 1-200 visible ASCII characters", {"field": "Idempotency-Key"}
        )
    return raw


def _normalised(body: SendRequest) -> dict[str, Any]:
    """The request as stored and compared for replays: JSON types, send_at in UTC."""
    data = body.model_dump(mode="json")
    data["send_at"] = body.send_at.astimezone(UTC).isoformat() if body.send_at else None
    return data


@bp.post("/email/send")
@documented(202, SendAccepted, 404, 409, 422, tag="send", json=SendRequest, headers=SendHeaders)
@named_limit("send")  # SEND_LIMIT_USER / SEND_LIMIT_TENANT: every request counts, replays too
def send() -> ResponseReturnValue:
    """Queue a message (or schedule it with send_at), exactly once per Idempotency-Key."""
    body = parse_body(SendRequest)
    key = _idempotency_key()
    data = _normalised(body)
    queued = use_cases.submit_send(current_caller(), data, key)
    return jsonify({"taskId": queued.task_id, "status": queued.status}), 202


@bp.get("/email/outbox")
@documented(200, OutboxList, tag="send", query=OutboxQuery)
def outbox_index() -> ResponseReturnValue:
    """The caller's sends, newest first."""
    status = request.args.get("status") or None
    if status is not None and status not in OUTBOX_STATES:
        raise BadRequest(f"status must be one of {', '.join(OUTBOX_STATES)}", {"field": "status"})
    limit = limit_arg(50, MAX_LIMIT)
    return jsonify({"items": use_cases.outbox_items(current_caller(), status, limit)})


@bp.delete("/email/outbox/<outbox_id>")
@documented(200, OutboxItem, 404, 409, tag="send")
def outbox_cancel(outbox_id: str) -> ResponseReturnValue:
    """Cancel a scheduled or queued send (409 once sending or sent)."""
    return jsonify(use_cases.cancel_outbox(current_caller(), outbox_id))


@bp.post("/attachments")
@documented(201, UploadView, 413, 422, tag="send", form=UploadForm)
def upload() -> ResponseReturnValue:
    """Upload a file to attach to a later send (413 once the caller's or tenant's stored uploads would
    exceed UPLOAD_QUOTA_BYTES_USER / UPLOAD_QUOTA_BYTES_TENANT)."""
    file = request.files.get("file")
    if file is None:
        raise BadRequest("multipart field 'file' is required", {"field": "file"})
    data = file.read()
    view = use_cases.upload(current_caller(), file.filename or "attachment", file.mimetype or "", data)
    return jsonify(view), 201
