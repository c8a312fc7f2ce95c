"""Webhooks: POST/GET /api/webhooks, GET/PATCH/DELETE /api/webhooks/<id>, GET …/<id>/deliveries.

Deliveries are signed with the endpoint's secret (Standard Webhooks); the secret is answered once, at
creation. The URL is checked against the outbound policy here (422) and again at every connect.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from email_service.core.errors import BadRequest
from email_service.core.http.apidoc import documented
from email_service.core.http.auth import current_caller
from email_service.core.http.body import limit_arg, parse_body
from email_service.events.webhooks import use_cases
from email_service.events.webhooks.schemas import (
    MAX_PAGE,
    CreatedWebhook,
    DeliveryPage,
    DeliveryQuery,
    PageQuery,
    WebhookCreate,
    WebhookPage,
    WebhookUpdate,
    WebhookView,
)

bp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks")
STATUSES = ("pending", "delivered", "failed")


@bp.post("")
@documented(201, CreatedWebhook, 409, 422, tag="changes", json=WebhookCreate)
def create() -> ResponseReturnValue:
    """Register an endpoint for some event types; the answer holds its signing secret, once."""
    body = parse_body(WebhookCreate)
    return jsonify(use_cases.create(current_caller(), body.url, body.events)), 201


@bp.get("")
@documented(200, WebhookPage, 400, tag="changes", query=PageQuery)
def index() -> ResponseReturnValue:
    """The caller's endpoints, newest first."""
    cursor = request.args.get("cursor") or None
    page = use_cases.webhook_page(current_caller(), cursor, limit_arg(50, MAX_PAGE))
    return jsonify({"items": page.items, "next_cursor": page.next_cursor})


@bp.get("/<webhook_id>")
@documented(200, WebhookView, 404, tag="changes")
def show(webhook_id: str) -> ResponseReturnValue:
    """One endpoint: its events and whether it is enabled (and why not)."""
    return jsonify(use_cases.show(current_caller(), webhook_id))


@bp.patch("/<webhook_id>")
@documented(200, WebhookView, 404, 422, tag="changes", json=WebhookUpdate)
def update(webhook_id: str) -> ResponseReturnValue:
    """Change the URL or events, or enable / disable it (re-enabling resets its failure count)."""
    changes = parse_body(WebhookUpdate).model_dump(exclude_unset=True)
    return jsonify(use_cases.change(current_caller(), webhook_id, changes))


@bp.delete("/<webhook_id>")
@documented(204, None, 404, tag="changes")
def remove(webhook_id: str) -> ResponseReturnValue:
    """Stop deliveries and forget the endpoint and its delivery log."""
    use_cases.remove(current_caller(), webhook_id)
    return "", 204


@bp.get("/<webhook_id>/deliveries")
@documented(200, DeliveryPage, 400, 404, tag="changes", query=DeliveryQuery)
def deliveries(webhook_id: str) -> ResponseReturnValue:
    """Its delivery log, newest first: status, attempts, last HTTP status, latency and error."""
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status must be one of {', '.join(STATUSES)}", {"field": "status"})
    page = use_cases.delivery_page(
        current_caller(), webhook_id, status, request.args.get("cursor") or None, limit_arg(50, MAX_PAGE)
    )
    return jsonify({"items": page.items, "next_cursor": page.next_cursor})
