"""OpenAPI path items for reading mail; self-contained so openapi.py can import it without a cycle."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}
NULLABLE_STR = {"type": ["string", "null"]}
ADDRESS = {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"}}}
ADDRESSES = {"type": "array", "items": ADDRESS}

SUMMARY_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string"},
    "account_id": {"type": "string"},
    "folder_id": {"type": "string"},
    "subject": {"type": "string"},
    "from": ADDRESS,
    "to": ADDRESSES,
    "date": {"type": "string", "format": "date-time"},
    "snippet": {"type": "string"},
    "flags": {"type": "array", "items": {"type": "string"}},
    "is_read": {"type": "boolean"},
    "is_flagged": {"type": "boolean"},
    "is_answered": {"type": "boolean"},
    "has_attachments": {"type": "boolean"},
    "thread_id": NULLABLE_STR,
    "spam_score": {"type": ["number", "null"]},
    "is_spam": {"type": ["boolean", "null"]},
    "verdict": {
        "type": ["string", "null"],
        "enum": ["ham", "uncertain", "spam", None],
        "description": "uncertain = possibly spam (shown, not moved); only spam goes to Junk; null: unscored",
    },
}
SUMMARY = {"type": "object", "required": list(SUMMARY_PROPERTIES), "properties": SUMMARY_PROPERTIES}
PAGE = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {"items": {"type": "array", "items": SUMMARY}, "next_cursor": NULLABLE_STR},
}
ATTACHMENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "filename": {"type": "string"},
        "content_type": {"type": "string"},
        "size": {"type": "integer"},
        "is_inline": {"type": "boolean"},
        "content_id": NULLABLE_STR,
    },
}
DETAIL_PROPERTIES: dict[str, Any] = {
    **SUMMARY_PROPERTIES,
    "headers": {"type": "object"},
    "cc": ADDRESSES,
    "reply_to": ADDRESSES,
    "body_text": {"type": "string"},
    "body_html": {"type": ["string", "null"], "description": "sanitised when synced"},
    "raw_size": {"type": "integer"},
    "attachments": {"type": "array", "items": ATTACHMENT},
    "spam_indicators": {"type": "array", "items": {"type": "string"}},
    "spam_checked_at": {"type": ["string", "null"], "format": "date-time"},
    "parse_error": NULLABLE_STR,
    "is_quarantined": {"type": "boolean"},
}
DETAIL = {"type": "object", "required": list(DETAIL_PROPERTIES), "properties": DETAIL_PROPERTIES}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _errors(*codes: str) -> dict[str, Any]:
    content = {"application/json": {"schema": ERROR}}
    return {code: {"description": "error", "content": content} for code in ("401", *codes)}


def _get(summary: str, ok: dict[str, Any], *errors: str, params: list[Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": {"description": "OK", **ok}, **_errors(*errors)},
        "security": [{"bearer": []}],
    }
    if params:
        operation["parameters"] = params
    return operation


LIST_PARAMS = [
    _query("account_id", {"type": "string"}, "only this account (404 if not the caller's)"),
    _query("folder_id", {"type": "string"}, "only this folder (404 if not the caller's)"),
    _query("unread", {"type": "boolean"}, "true: unread only; false: read only"),
    _query("flagged", {"type": "boolean"}, "true: flagged only; false: unflagged only"),
    _query("from", {"type": "string", "maxLength": 200}, "substring of sender name or address"),
    _query("q", {"type": "string", "maxLength": 200}, "substring of subject, sender or snippet"),
    _query("cursor", {"type": "string"}, "next_cursor of the previous page"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "page size"),
]

MESSAGE_PATHS: dict[str, dict[str, Any]] = {
    "/api/email/messages": {
        "get": _get(
            "The caller's messages, newest first, cursor-paginated",
            {"content": {"application/json": {"schema": PAGE}}},
            "400",
            "404",
            params=LIST_PARAMS,
        )
    },
    "/api/email/messages/{id}": {
        "parameters": [_path("id")],
        "get": _get("One message in full", {"content": {"application/json": {"schema": DETAIL}}}, "404"),
    },
    "/api/email/messages/{id}/attachments/{aid}": {
        "parameters": [_path("id"), _path("aid")],
        "get": _get(
            "Attachment bytes, always as a download",
            {"content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
            "404",
        ),
    },
}
