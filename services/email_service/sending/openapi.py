"""OpenAPI path items for sending; self-contained so openapi.py can merge them without a cycle."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
ACCEPTED = {
    "type": "object",
    "required": ["taskId", "status"],
    "properties": {
        "taskId": {"type": "string"},
        "status": {"type": "string", "enum": ["queued", "scheduled"]},
    },
}
OUTBOX_ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "account_id": {"type": "string"},
        "status": {
            "type": "string",
            "enum": ["scheduled", "queued", "sending", "sent", "failed", "uncertain", "cancelled"],
        },
        "to": {"type": "array", "items": {"type": "string"}},
        "cc": {"type": "array", "items": {"type": "string"}},
        "bcc": {"type": "array", "items": {"type": "string"}},
        "subject": {"type": "string"},
        "attachment_ids": {"type": "array", "items": {"type": "string"}},
        "in_reply_to": {"type": ["string", "null"]},
        "message_id": {"type": ["string", "null"]},
        "send_at": {"type": ["string", "null"], "format": "date-time"},
        "sent_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "attempts": {"type": "integer"},
        "result": {"type": "object", "description": "per-recipient accepted/refused, server reply"},
        "error": {"type": ["string", "null"]},
    },
}
UPLOAD = {
    "type": "object",
    "required": ["id", "filename", "content_type", "size"],
    "properties": {
        "id": {"type": "string"},
        "filename": {"type": "string"},
        "content_type": {"type": "string"},
        "size": {"type": "integer"},
    },
}


def _responses(ok: str, schema: dict[str, Any] | None, *errors: str) -> dict[str, Any]:
    out: dict[str, Any] = {ok: {"description": "OK"}}
    if schema is not None:
        out[ok]["content"] = {"application/json": {"schema": schema}}
    for code in ("401", *errors):
        out[code] = {"description": "error", "content": {"application/json": {"schema": ERROR}}}
    return out


IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "same key and body → the same taskId; same key, other body → 409",
}
SEND_PATHS: dict[str, dict[str, Any]] = {
    "/api/email/send": {
        "post": {
            "summary": "Queue (or schedule with send_at) a message",
            "security": SECURITY,
            "parameters": [IDEMPOTENCY],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SendRequest"}}},
            },
            "responses": _responses("202", ACCEPTED, "400", "404", "409", "422", "503"),
        }
    },
    "/api/email/outbox": {
        "get": {
            "summary": "The caller's sends, newest first",
            "security": SECURITY,
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            ],
            "responses": _responses(
                "200",
                {"type": "object", "properties": {"items": {"type": "array", "items": OUTBOX_ITEM}}},
                "400",
            ),
        }
    },
    "/api/email/outbox/{id}": {
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "delete": {
            "summary": "Cancel a scheduled or queued send (409 once sending or sent)",
            "security": SECURITY,
            "responses": _responses("200", OUTBOX_ITEM, "404", "409"),
        },
    },
    "/api/attachments": {
        "post": {
            "summary": "Upload a file to attach to a later send",
            "security": SECURITY,
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            },
            "responses": _responses("201", UPLOAD, "400", "413", "422"),
        }
    },
}
