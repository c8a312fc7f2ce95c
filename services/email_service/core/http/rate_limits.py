"""Per-user and per-tenant API rate limits (issue 16), counted by Flask-Limiter in the app's Redis.

Every authenticated request counts against RATE_LIMIT_USER (key: tenant + user) and RATE_LIMIT_TENANT
(key: tenant, the sum of its users); the routes that send mail or start work carry stricter named
limits on top (`named_limit`). Requests without a caller (/healthz, /metrics, the API docs, and any
request refused with 401 before it is counted) are not limited. Over a limit: 429 with the error JSON
and Retry-After in seconds.

Redis unreachable: the limiter falls back to per-process in-memory counters with the same limits
(Flask-Limiter's in-memory fallback) and re-checks Redis with a backoff, so a Redis outage neither
turns every request into a 500 nor lifts the limits; routes that need Redis themselves (send, sync,
task status) still answer 503 as before.

One limiter per process (the decorators below are applied at import); `init_rate_limits` binds it to
the app with the current settings, after authentication so that the caller is known.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded

from email_service.core.config import Settings, get_settings
from email_service.core.http.errors import error_response

log = logging.getLogger(__name__)
KEY_PREFIX = "email_service:ratelimit"
# A Redis that hangs must not hold request threads: the limiter gives up and falls back quickly.
REDIS_TIMEOUT_SECONDS = 2
View = Callable[..., Any]


def user_key() -> str:
    caller = g.get("caller")
    return f"user:{caller.tenant_id}:{caller.user_id}" if caller is not None else ""


def tenant_key() -> str:
    caller = g.get("caller")
    return f"tenant:{caller.tenant_id}" if caller is not None else ""


def _setting(name: str) -> Callable[[], str]:
    """Read at each request, so the limits follow the settings the app was built with."""
    return lambda: str(getattr(get_settings(), name))


limiter = Limiter(
    key_func=user_key,
    application_limits=[
        ApplicationLimit(_setting("rate_limit_user"), key_function=user_key, scope="api"),
        ApplicationLimit(_setting("rate_limit_tenant"), key_function=tenant_key, scope="api"),
    ],
    strategy="fixed-window",  # one INCR per limit and request
    key_prefix=KEY_PREFIX,
    headers_enabled=False,  # Retry-After on a 429 only: no extra Redis read on every answer
    in_memory_fallback_enabled=True,
    swallow_errors=True,  # a fallback that fails too lets the request through rather than a 500
)


@limiter.request_filter
def _anonymous() -> bool:
    """No caller, nothing to count: public paths, and nothing authenticates outside /api/."""
    return g.get("caller") is None


def named_limit(kind: str) -> Callable[[View], View]:
    """The stricter limits `<kind>_limit_user` and `<kind>_limit_tenant` of Settings on one route."""
    for scope in ("user", "tenant"):
        if not hasattr(Settings, f"{kind}_limit_{scope}"):
            raise AttributeError(f"Settings has no {kind}_limit_{scope}")

    def decorate(view: View) -> View:
        # Shared by scope: every route carrying the same kind (a send and a draft's send) counts together.
        by_user = limiter.shared_limit(_setting(f"{kind}_limit_user"), f"{kind}-user", key_func=user_key)
        by_tenant = limiter.shared_limit(
            _setting(f"{kind}_limit_tenant"), f"{kind}-tenant", key_func=tenant_key
        )
        return by_tenant(by_user(view))

    return decorate


def storage_uri(redis_url: str) -> str:
    """The limits library's name for a Redis socket path."""
    return (
        "redis+unix://" + redis_url.removeprefix("unix://") if redis_url.startswith("unix://") else redis_url
    )


def _retry_after(exc: RateLimitExceeded) -> int:
    """Whole seconds until the breached window resets (at least 1)."""
    current = limiter.current_limit
    window = max(1, int(exc.limit.limit.get_expiry()))
    if current is None:
        return window
    try:
        return max(1, min(window, math.ceil(current.window[0] - time.time())))
    except Exception:  # storage gone since the breach: the window's length is an upper bound
        log.warning("rate limit window unreadable, answering its full length")
        return window


def init_rate_limits(app: Flask, settings: Settings) -> None:
    """Bind the limiter to this app (call after init_auth: its hooks run after authentication)."""
    app.config.update(
        RATELIMIT_ENABLED=settings.rate_limits_enabled,
        RATELIMIT_STORAGE_URI=storage_uri(settings.broker_url),
        RATELIMIT_STORAGE_OPTIONS={
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        },
    )
    limiter.init_app(app)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> Response:
        retry_after = _retry_after(exc)
        scope = "tenant" if exc.limit.key_func is tenant_key else "user"
        limit = str(exc.limit.limit)
        response = error_response(
            429,
            "rate_limited",
            f"rate limit exceeded ({limit} per {scope}), retry in {retry_after} s",
            {"limit": limit, "scope": scope, "retry_after": retry_after},
        )
        response.headers["Retry-After"] = str(retry_after)
        return response
