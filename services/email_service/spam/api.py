"""Spam endpoints: queue a re-check of one message, and learn from the user's spam / not-spam label."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.db import session_scope
from email_service.core.http.body import parse_body
from email_service.core.tasking.launch import launch
from email_service.core.tasking.records import record_task
from email_service.core.tenancy.scoping import get_owned
from email_service.messages.model import Message
from email_service.spam.schemas import SpamFeedbackRequest
from email_service.spam.service import record_feedback

bp = Blueprint("spam", __name__, url_prefix="/api/email/messages")


@bp.post("/<message_id>/spam-check")
def spam_check(message_id: str) -> ResponseReturnValue:
    with session_scope(g.tenant_id) as session:
        message = get_owned(session, Message, message_id, g.tenant_id, g.user_id)
        task_id = record_task(
            session, g.tenant_id, g.user_id, "check_spam", account_id=message.account_id
        ).task_id
    launch("check_spam", {"email_id": message_id}, task_id=task_id)
    return jsonify({"taskId": task_id, "status": "pending"}), 202


@bp.post("/<message_id>/spam-feedback")
def spam_feedback(message_id: str) -> ResponseReturnValue:
    body = parse_body(SpamFeedbackRequest)
    with session_scope(g.tenant_id) as session:
        result = record_feedback(session, message_id, g.tenant_id, g.user_id, body.is_spam)
    return jsonify(result), 200
