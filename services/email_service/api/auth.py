"""Bearer-token authentication for every /api/ path except the public documentation."""

from __future__ import annotations

from flask import Flask, g, request

from email_service.config import get_settings
from email_service.db import session_scope
from email_service.errors import Unauthorized
from email_service.logging_setup import bind_context
from email_service.services.identity import user_exists
from email_service.tenancy.tokens import verify_token

PUBLIC_PATHS = frozenset({"/api/openapi.json", "/api/docs"})


def authenticate() -> None:
    """Set g.tenant_id and g.user_id from a valid token whose user still exists in that tenant."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    identity = verify_token(get_settings(), token.strip())
    with session_scope(identity.tenant_id) as session:
        if not user_exists(session, identity.tenant_id, identity.user_id):
            raise Unauthorized("unknown user")
    g.tenant_id = identity.tenant_id
    g.user_id = identity.user_id
    bind_context(tenant_id=identity.tenant_id, user_id=identity.user_id)


def init_auth(app: Flask) -> None:
    @app.before_request
    def _require_auth() -> None:
        if request.path.startswith("/api/") and request.path not in PUBLIC_PATHS:
            authenticate()
