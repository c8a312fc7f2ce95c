"""Bearer-token authentication for every /api/ path except the public documentation."""

from __future__ import annotations

import threading

from cachetools import TTLCache
from flask import Flask, g, request

from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.core.errors import Unauthorized
from email_service.core.logging_setup import bind_context, clear_context
from email_service.core.tenancy.identity import user_exists
from email_service.core.tenancy.tokens import Identity, verify_token

PUBLIC_PATHS = frozenset({"/api/openapi.json", "/api/docs"})
PUBLIC_PREFIXES = ("/api/docs/assets/",)  # the docs page's own files
# A user seen to exist is not looked up again for this long (per process): a deleted user's
# still-valid tokens are refused within this window, and a polling client costs no query per request.
USER_CHECK_TTL_SECONDS = 10.0
MAX_CACHED_USERS = 10_000


known_users: TTLCache[Identity, bool] = TTLCache(MAX_CACHED_USERS, USER_CHECK_TTL_SECONDS)
_known_users_lock = threading.Lock()  # cachetools caches are not thread-safe


def authenticate() -> None:
    """Set the caller from a valid token whose user still exists in that tenant."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("missing bearer token")
    identity = verify_token(get_settings(), token.strip())
    with _known_users_lock:
        known = identity in known_users
    if not known:
        with session_scope(identity.tenant_id) as session:
            if not user_exists(session, identity.tenant_id, identity.user_id):
                raise Unauthorized("unknown user")
        with _known_users_lock:
            known_users[identity] = True
    g.caller = identity
    bind_context(tenant_id=identity.tenant_id, user_id=identity.user_id)


def current_caller() -> Identity:
    """The authenticated tenant and user of this request, handed to use cases as plain ids."""
    caller: Identity = g.caller
    return caller


def init_auth(app: Flask) -> None:
    @app.before_request
    def _require_auth() -> None:
        clear_context()  # a pooled thread carries the last request's context (contextvars) otherwise
        path = request.path
        if path.startswith("/api/") and path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES):
            authenticate()

    @app.teardown_request
    def _forget_identity(_exc: BaseException | None) -> None:
        """Nothing logged after the request (or by the next one on this thread) carries its identity."""
        clear_context()
