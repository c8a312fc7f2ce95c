"""Spam endpoints: queue a re-check of one message, and learn from the user's spam / not-spam label."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body
from email_service.spam.schemas import SpamFeedbackRequest
from email_service.spam.use_cases import give_feedback, request_spam_check

bp = Blueprint("spam", __name__, url_prefix="/api/email/messages")


@bp.post("/<message_id>/spam-check")
def spam_check(message_id: str) -> ResponseReturnValue:
    task_id = request_spam_check(current_caller(), message_id)
    return jsonify({"taskId": task_id, "status": "pending"}), 202


@bp.post("/<message_id>/spam-feedback")
def spam_feedback(message_id: str) -> ResponseReturnValue:
    body = parse_body(SpamFeedbackRequest)
    return jsonify(give_feedback(current_caller(), message_id, body.is_spam)), 200
