"""POST /api/email/sync: start a sync of one of the caller's accounts, or of all of them as a group."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body
from email_service.core.http.rate_limits import named_limit
from email_service.core.tasking.schemas import TaskAccepted
from email_service.sync.group import request_group_sync
from email_service.sync.schemas import SyncRequest
from email_service.sync.trigger import request_sync

bp = Blueprint("sync", __name__, url_prefix="/api/email")


@bp.post("/sync")
@documented(202, TaskAccepted, 404, 422, tag="sync", json=SyncRequest)
@named_limit("sync_trigger")  # duplicates are answered with the running sync (pending.py); this caps the rest
def start_sync() -> ResponseReturnValue:
    """Start a sync of one of the caller's accounts (or one folder of it), or, without email_client_id,
    of all their enabled accounts as one group."""
    body = parse_body(SyncRequest)
    if body.email_client_id is None:
        task_id = request_group_sync(current_caller(), body.force_full_sync)
    else:
        task_id = request_sync(current_caller(), body.email_client_id, body.folder_id, body.force_full_sync)
    return jsonify({"taskId": task_id, "status": "pending"}), 202
