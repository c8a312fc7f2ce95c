"""OpenAPI path item for POST /api/notifications/test; self-contained so openapi.py can merge it."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
TASK_ACCEPTED = {
    "type": "object",
    "required": ["taskId", "status"],
    "properties": {"taskId": {"type": "string"}, "status": {"type": "string", "enum": ["pending"]}},
}


def _errors(*codes: str) -> dict[str, Any]:
    return {c: {"description": "error", "content": {"application/json": {"schema": ERROR}}} for c in codes}


PATHS: dict[str, dict[str, Any]] = {
    "/api/notifications/test": {
        "post": {
            "summary": "Send a test notification to the caller",
            "description": "Queues send_notification with the test template for the caller's own "
            "address. Task result: {status: sent | skipped | failed, template, reason?}. 409 when "
            "SMTP_HOST is not configured; 422 when the caller's address matches "
            "NOTIFICATION_SKIP_PATTERNS (placeholder) or is malformed.",
            "security": [{"bearer": []}],
            "responses": {
                "202": {
                    "description": "task queued",
                    "content": {"application/json": {"schema": TASK_ACCEPTED}},
                },
                **_errors("401", "404", "409", "422", "503"),
            },
        },
    },
}
