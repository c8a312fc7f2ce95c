"""Drafts: POST/GET /api/email/drafts, GET/PUT/DELETE /api/email/drafts/<id>, POST …/<id>/send.

A save answers at once with the draft as stored and the taskId of the write-back that puts it into the
server's Drafts folder (GET /api/tasks/<id> tells how that ended).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import limit_arg, parse_body
from email_service.core.http.rate_limits import named_limit
from email_service.sending.drafts import send, use_cases
from email_service.sending.drafts.schemas import (
    MAX_DRAFT_LIMIT,
    DraftPageView,
    DraftQuery,
    DraftRemoved,
    DraftRequest,
    DraftSent,
    DraftView,
    SavedDraft,
)

bp = Blueprint("drafts", __name__, url_prefix="/api/email/drafts")


@bp.post("")
@documented(201, SavedDraft, 404, 422, tag="send", json=DraftRequest)
def create() -> ResponseReturnValue:
    """Save a new draft; the task APPENDs it to the account's Drafts folder with \\\\Draft."""
    body = parse_body(DraftRequest)
    return jsonify(use_cases.create_draft(current_caller(), body.model_dump(mode="json"))), 201


@bp.get("")
@documented(200, DraftPageView, 400, tag="send", query=DraftQuery)
def index() -> ResponseReturnValue:
    """The caller's unsent drafts, most recently saved first."""
    cursor = request.args.get("cursor") or None
    page = use_cases.draft_page(current_caller(), cursor, limit_arg(50, MAX_DRAFT_LIMIT))
    return jsonify({"items": page.items, "next_cursor": page.next_cursor})


@bp.get("/<draft_id>")
@documented(200, DraftView, 404, tag="send")
def show(draft_id: str) -> ResponseReturnValue:
    """One draft (a sent one shows status "sent" and its outbox_id)."""
    return jsonify(use_cases.draft_view(current_caller(), draft_id))


@bp.put("/<draft_id>")
@documented(200, SavedDraft, 404, 409, 422, tag="send", json=DraftRequest)
def replace(draft_id: str) -> ResponseReturnValue:
    """Replace the draft; the task APPENDs the new version, then removes the previous one (409 once sent)."""
    body = parse_body(DraftRequest)
    return jsonify(use_cases.replace_draft(current_caller(), draft_id, body.model_dump(mode="json")))


@bp.delete("/<draft_id>")
@documented(202, DraftRemoved, 404, tag="send")
def remove(draft_id: str) -> ResponseReturnValue:
    """Delete the draft at once; the task removes it from the server's Drafts folder."""
    task_id = use_cases.delete_draft(current_caller(), draft_id)
    return jsonify({"taskId": task_id, "status": "pending"}), 202


@bp.post("/<draft_id>/send")
@documented(202, DraftSent, 404, 409, 422, tag="send")
@named_limit("send")  # counted with /api/email/send: one budget of sends per hour
def send_draft(draft_id: str) -> ResponseReturnValue:
    """Send it exactly once through the outbox, as /api/email/send does; a second send: 409."""
    return jsonify(send.send_draft(current_caller(), draft_id)), 202
