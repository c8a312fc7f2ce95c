"""OpenAPI path items for deleting and restoring; self-contained so openapi.py can import it."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
TASK_ACCEPTED = {
    "type": "object",
    "required": ["taskId", "status"],
    "properties": {"taskId": {"type": "string"}, "status": {"type": "string", "enum": ["pending"]}},
}


def _post(summary: str, description: str, model: str) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "202": {"description": "task queued", "content": {"application/json": {"schema": TASK_ACCEPTED}}}
    }
    for code in ("400", "401", "422", "503"):
        responses[code] = {"description": "error", "content": {"application/json": {"schema": ERROR}}}
    return {
        "summary": summary,
        "description": description,
        "security": [{"bearer": []}],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}},
        },
        "responses": responses,
    }


PATHS: dict[str, dict[str, Any]] = {
    "/api/email/delete": {
        "post": _post(
            "Delete messages",
            "1-1000 message ids. Soft (default): hidden at once, moved to Trash, restorable. "
            "permanent=true: UID EXPUNGE of exactly these messages, then purged; a message the server "
            "still holds afterwards (expunge refused, or failed on the last attempt) is listed again "
            "and named in `failed`. The task result is "
            "{status, deleted_count, not_found, failed: [{id, reason}], permanent}; ids of other users "
            "count as not found.",
            "DeleteRequest",
        )
    },
    "/api/email/restore": {
        "post": _post(
            "Restore soft-deleted messages",
            "Moves them back to the folder they came from (the Inbox if it is gone) and shows them "
            "again. Task result: {status, restored_count, not_found, failed: [{id, reason}]}.",
            "RestoreRequest",
        )
    },
}
