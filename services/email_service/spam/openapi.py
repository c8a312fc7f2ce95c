"""OpenAPI path items for the spam endpoints; self-contained so openapi.py can import it."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
TASK_ACCEPTED = {
    "type": "object",
    "required": ["taskId", "status"],
    "properties": {"taskId": {"type": "string"}, "status": {"type": "string", "enum": ["pending"]}},
}
FEEDBACK_RESULT = {
    "type": "object",
    "required": ["email_id", "is_spam", "spam_labels", "ham_labels", "user_model_active"],
    "properties": {
        "email_id": {"type": "string"},
        "is_spam": {"type": "boolean"},
        "spam_labels": {"type": "integer"},
        "ham_labels": {"type": "integer"},
        "user_model_active": {"type": "boolean"},
    },
}


def _errors(*codes: str) -> dict[str, Any]:
    return {c: {"description": "error", "content": {"application/json": {"schema": ERROR}}} for c in codes}


PATHS: dict[str, dict[str, Any]] = {
    "/api/email/messages/{id}/spam-check": {
        "parameters": [ID_PARAM],
        "post": {
            "summary": "Re-score one message for spam",
            "description": "Queues check_spam. Task result: {status, is_spam, spam_score (0..1, calibrated), "
            "verdict (ham | uncertain | spam; only spam moves mail to Junk), indicators, moved_to_junk}; the "
            "verdict is also stored on the message (GET /api/email/messages/{id}).",
            "security": [{"bearer": []}],
            "responses": {
                "202": {
                    "description": "task queued",
                    "content": {"application/json": {"schema": TASK_ACCEPTED}},
                },
                **_errors("401", "404", "503"),
            },
        },
    },
    "/api/email/messages/{id}/spam-feedback": {
        "parameters": [ID_PARAM],
        "post": {
            "summary": "Mark a message as spam or not spam",
            "description": "Trains the caller's own model (nobody else's) and labels the message. The "
            "user model joins the global score once it has enough labels of both kinds.",
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SpamFeedbackRequest"}}
                },
            },
            "responses": {
                "200": {
                    "description": "label learnt",
                    "content": {"application/json": {"schema": FEEDBACK_RESULT}},
                },
                **_errors("400", "401", "404", "422"),
            },
        },
    },
}
