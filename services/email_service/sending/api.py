"""Sending: POST /api/email/send, the outbox (list, cancel) and POST /api/attachments uploads."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from email_service.core.db import session_scope
from email_service.core.errors import BadRequest, ServiceUnavailable
from email_service.core.http.body import limit_arg, parse_body
from email_service.core.tasking.launch import launch
from email_service.sending import outbox
from email_service.sending.model import OUTBOX_STATES
from email_service.sending.recovery import send_task_kwargs
from email_service.sending.schemas import SendRequest

bp = Blueprint("send", __name__, url_prefix="/api")

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
MAX_LIMIT = 200


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


def _queue(data: dict[str, Any], key: str | None) -> outbox.QueuedSend:
    """Replay, or validate and write row + TaskRecord in one transaction (a racing twin is a replay)."""
    try:
        with session_scope(g.tenant_id) as session:
            replay = outbox.find_replay(session, g.tenant_id, g.user_id, key, data)
            if replay is not None:
                return replay
            outbox.validate_send(session, data, g.tenant_id, g.user_id)
            return outbox.queue_send(session, g.tenant_id, g.user_id, data, key)
    except IntegrityError:
        if key is None:
            raise
    with session_scope(g.tenant_id) as session:
        replay = outbox.find_replay(session, g.tenant_id, g.user_id, key, data)
    if replay is None:
        raise BadRequest("could not queue the message, try again")
    return replay


def _publish(queued: outbox.QueuedSend, data: dict[str, Any]) -> None:
    """Publish after commit (eta for a scheduled send); a broker outage removes the row again."""
    kwargs = send_task_kwargs(data["email_client_id"], data)
    options = {"eta": queued.send_at} if queued.status == "scheduled" else {}
    try:
        launch("send_email", kwargs, account_id=data["email_client_id"], task_id=queued.task_id, **options)
    except ServiceUnavailable:
        with session_scope(g.tenant_id) as session:
            outbox.discard(session, queued.task_id)
        raise


@bp.post("/email/send")
def send() -> ResponseReturnValue:
    body = parse_body(SendRequest)
    key = _idempotency_key()
    data = _normalised(body)
    queued = _queue(data, key)
    if queued.created:
        _publish(queued, data)
    return jsonify({"taskId": queued.task_id, "status": queued.status}), 202


@bp.get("/email/outbox")
def outbox_index() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status is not None and status not in OUTBOX_STATES:
        raise BadRequest(f"status must be one of {', '.join(OUTBOX_STATES)}", {"field": "status"})
    limit = limit_arg(50, MAX_LIMIT)
    with session_scope(g.tenant_id) as session:
        rows = outbox.list_outbox(session, g.tenant_id, g.user_id, status, limit)
        items = [outbox.outbox_view(row) for row in rows]
    return jsonify({"items": items})


@bp.delete("/email/outbox/<outbox_id>")
def outbox_cancel(outbox_id: str) -> ResponseReturnValue:
    with session_scope(g.tenant_id) as session:
        view = outbox.outbox_view(outbox.cancel(session, outbox_id, g.tenant_id, g.user_id))
    return jsonify(view)


@bp.post("/attachments")
def upload() -> ResponseReturnValue:
    file = request.files.get("file")
    if file is None:
        raise BadRequest("multipart field 'file' is required", {"field": "file"})
    data = file.read()
    with session_scope(g.tenant_id) as session:
        attachment = outbox.store_upload(
            session, g.tenant_id, g.user_id, file.filename or "attachment", file.mimetype or "", data
        )
        view = outbox.upload_view(attachment)
    return jsonify(view), 201
