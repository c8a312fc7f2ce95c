"""Spam endpoints: queue a re-check of one message, and learn from the user's spam / not-spam label."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import parse_body
from email_service.core.tasking.schemas import TaskAccepted
from email_service.spam.schemas import SpamFeedbackRequest, SpamFeedbackResult
from email_service.spam.use_cases import give_feedback, request_spam_check

bp = Blueprint("spam", __name__, url_prefix="/api/email/messages")


@bp.post("/<message_id>/spam-check")
@documented(202, TaskAccepted, 404, tag="spam")
def spam_check(message_id: str) -> ResponseReturnValue:
    """Re-score one message for spam.

    Task result: {status, is_spam, spam_score (0..1, calibrated), verdict (ham | uncertain | spam; only
    spam moves mail to Junk), indicators, moved_to_junk}; the verdict is also stored on the message.
    """
    task_id = request_spam_check(current_caller(), message_id)
    return jsonify({"taskId": task_id, "status": "pending"}), 202


@bp.post("/<message_id>/spam-feedback")
@documented(200, SpamFeedbackResult, 404, 422, tag="spam", json=SpamFeedbackRequest)
def spam_feedback(message_id: str) -> ResponseReturnValue:
    """Mark a message as spam or not spam.

    Trains the caller's own model (nobody else's) and labels the message; the user model joins the
    global score once it has enough labels of both kinds.
    """
    body = parse_body(SpamFeedbackRequest)
    return jsonify(give_feedback(current_caller(), message_id, body.is_spam)), 200
