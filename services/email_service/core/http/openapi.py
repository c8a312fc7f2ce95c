"""OpenAPI 3 description of the API (request schemas come from the pydantic models) and a docs page."""

from __future__ import annotations

import html
from typing import Any

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from email_service.core.http import schemas
from email_service.deletion import openapi as openapi_delete
from email_service.deletion import schemas as schemas_delete
from email_service.messages.openapi import MESSAGE_PATHS
from email_service.notifications import openapi as openapi_notifications
from email_service.sending.openapi import SEND_PATHS
from email_service.sending.schemas import SendRequest
from email_service.spam import openapi as openapi_spam
from email_service.spam import schemas as schemas_spam

bp = Blueprint("openapi", __name__, url_prefix="/api")

ERROR = {"$ref": "#/components/schemas/Error"}
TASK_ACCEPTED = {
    "type": "object",
    "required": ["taskId", "status"],
    "properties": {"taskId": {"type": "string"}, "status": {"type": "string"}},
}
TASK_STATUS = {
    "type": "object",
    "required": ["taskId", "status", "result", "error", "progress"],
    "properties": {
        "taskId": {"type": "string"},
        "status": {
            "type": "string",
            "enum": ["pending", "running", "retrying", "success", "failed", "revoked"],
        },
        "result": {},
        "error": {"type": ["object", "null"]},
        "progress": {"type": ["object", "null"]},
        "kind": {"type": "string"},
        "createdAt": {"type": "string"},
    },
}
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    schemas.SyncRequest,
    schemas.AccountCreate,
    schemas.AccountUpdate,
    schemas_delete.DeleteRequest,
    schemas_delete.RestoreRequest,
    schemas_spam.SpamFeedbackRequest,
    SendRequest,
)
EXTRA_PATHS: dict[str, dict[str, Any]] = {
    **MESSAGE_PATHS,
    **openapi_delete.PATHS,
    **openapi_spam.PATHS,
    **SEND_PATHS,
    **openapi_notifications.PATHS,
}


def _responses(ok_status: str, ok_schema: dict[str, Any] | None, *errors: str) -> dict[str, Any]:
    out: dict[str, Any] = {ok_status: {"description": "OK"}}
    if ok_schema is not None:
        out[ok_status]["content"] = {"application/json": {"schema": ok_schema}}
    for code in ("401", *errors):
        out[code] = {"description": "error", "content": {"application/json": {"schema": ERROR}}}
    return out


def _body(model: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{model}"}
    return {"required": True, "content": {"application/json": {"schema": ref}}}


def op(
    summary: str, responses: dict[str, Any], body: str | None = None, params: list[Any] | None = None
) -> Any:
    operation: dict[str, Any] = {"summary": summary, "responses": responses, "security": [{"bearer": []}]}
    if body:
        operation["requestBody"] = _body(body)
    if params:
        operation["parameters"] = params
    return operation


def build_spec() -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "object"}
    paths: dict[str, Any] = {
        "/api/email/sync": {
            "post": op(
                "Start a sync", _responses("202", TASK_ACCEPTED, "400", "404", "422", "503"), "SyncRequest"
            )
        },
        "/api/tasks": {"get": op("The caller's tasks", _responses("200", obj, "400"))},
        "/api/tasks/{id}": {
            "parameters": [ID_PARAM],
            "get": op("Task status", _responses("200", TASK_STATUS, "404")),
            "delete": op(
                "Revoke a task (a sync stops at its next batch, a send is cancelled, 409 once sending)",
                _responses("202", TASK_ACCEPTED, "404", "409"),
            ),
        },
        "/api/accounts": {
            "get": op("List accounts", _responses("200", obj)),
            "post": op("Create an account", _responses("201", obj, "400", "422"), "AccountCreate"),
        },
        "/api/accounts/{id}": {
            "parameters": [ID_PARAM],
            "get": op("One account", _responses("200", obj, "404")),
            "patch": op("Update an account", _responses("200", obj, "400", "404", "422"), "AccountUpdate"),
            "delete": op("Delete an account", _responses("204", None, "404")),
        },
        "/api/accounts/{id}/test": {
            "parameters": [ID_PARAM],
            "post": op("Log in to IMAP and SMTP", _responses("200", obj, "404")),
        },
        "/api/accounts/{id}/folders": {
            "parameters": [ID_PARAM],
            "get": op("Folders with counts", _responses("200", obj, "404")),
        },
        **EXTRA_PATHS,
    }
    _document_bad_request(paths)
    components = {
        name.__name__: name.model_json_schema(ref_template="#/components/schemas/{model}")
        for name in REQUEST_MODELS
    }
    components["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "object"},
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "email_service API", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _document_bad_request(paths: dict[str, Any]) -> None:
    """Any operation answers 400 to a value the database cannot hold (e.g. NUL in an id)."""
    for item in paths.values():
        for method, operation in item.items():
            if method != "parameters":
                operation["responses"].setdefault(
                    "400", {"description": "error", "content": {"application/json": {"schema": ERROR}}}
                )


@bp.get("/openapi.json")
def spec() -> ResponseReturnValue:
    return jsonify(build_spec())


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    """A self-contained page (no CDN): every operation with its summary and statuses."""
    rows = []
    for path, item in build_spec()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = ", ".join(operation["responses"])
            rows.append(
                f"<tr><td><b>{method.upper()}</b></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(operation['summary'])}</td><td>{codes}</td></tr>"
            )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>email_service API</title></head><body>"
        "<h1>email_service API</h1><p>Machine-readable spec: "
        "<a href='/api/openapi.json'>/api/openapi.json</a>."
        " Authenticate with <code>Authorization: Bearer &lt;JWT&gt;</code>.</p>"
        "<table border='1' cellpadding='4'>"
        "<tr><th>method</th><th>path</th><th>what</th><th>statuses</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
    return Response(page, mimetype="text/html")
