"""POST /api/email/sync: start a sync of one of the caller's accounts."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from email_service.accounts.service import get_account
from email_service.core.db import session_scope
from email_service.core.http.body import parse_body
from email_service.core.http.schemas import SyncRequest
from email_service.core.tasking.launch import launch
from email_service.core.tasking.records import record_task
from email_service.messages.folders import get_folder

bp = Blueprint("sync", __name__, url_prefix="/api/email")


@bp.post("/sync")
def start_sync() -> ResponseReturnValue:
    body = parse_body(SyncRequest)
    with session_scope(g.tenant_id) as session:
        account = get_account(session, body.email_client_id, g.tenant_id, g.user_id)
        if body.folder_id is not None:
            get_folder(session, body.folder_id, g.tenant_id, g.user_id, account_id=account.id)
        task_id = record_task(session, g.tenant_id, g.user_id, "sync_emails", account_id=account.id).task_id
    launch(
        "sync_emails",
        {
            "email_client_id": body.email_client_id,
            "folder_id": body.folder_id,
            "force_full_sync": body.force_full_sync,
        },
        account_id=body.email_client_id,
        task_id=task_id,
    )
    return jsonify({"taskId": task_id, "status": "pending"}), 202
