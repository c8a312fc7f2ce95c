"""Conversations: GET /api/email/threads (newest first, cursor-paginated) and one thread."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import limit_arg
from email_service.messages import service
from email_service.messages.api import filters_from_request
from email_service.messages.threads import use_cases
from email_service.messages.threads.schemas import ThreadDetail, ThreadPageView, ThreadQuery

bp = Blueprint("threads", __name__, url_prefix="/api/email/threads")


@bp.get("")
@documented(200, ThreadPageView, 400, 404, 422, tag="messages", query=ThreadQuery)
def index() -> ResponseReturnValue:
    """The caller's conversations, newest last message first, with counts and participants."""
    filters, cursor = filters_from_request(), request.args.get("cursor") or None
    limit = limit_arg(service.DEFAULT_LIMIT, service.MAX_LIMIT)
    page = use_cases.thread_page(current_caller(), filters, cursor, limit)
    return jsonify({"items": page.items, "next_cursor": page.next_cursor})


@bp.get("/<thread_id>")
@documented(200, ThreadDetail, 404, tag="messages")
def show(thread_id: str) -> ResponseReturnValue:
    """One conversation across folders, its messages oldest first."""
    return jsonify(use_cases.thread_view(current_caller(), thread_id))
