"""POST /api/email/sync: start a sync of one of the caller's accounts, or of all of them as a group."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body
from email_service.core.http.schemas import SyncRequest
from email_service.sync.group import request_group_sync
from email_service.sync.trigger import request_sync

bp = Blueprint("sync", __name__, url_prefix="/api/email")


@bp.post("/sync")
def start_sync() -> ResponseReturnValue:
    body = parse_body(SyncRequest)
    if body.email_client_id is None:
        task_id = request_group_sync(current_caller(), body.force_full_sync)
    else:
        task_id = request_sync(current_caller(), body.email_client_id, body.folder_id, body.force_full_sync)
    return jsonify({"taskId": task_id, "status": "pending"}), 202
