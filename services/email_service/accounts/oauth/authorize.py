"""The authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636) for google and microsoft.

start: a random state and code verifier are kept in Redis for STATE_TTL_SECONDS with who asked and
for which account; the authorize URL carries the state and the S256 challenge. callback: the frontend
posts the code and state the provider sent back to OAUTH_REDIRECT_URI; the state is taken once
(GETDEL), must belong to the caller and provider, and the code is exchanged for tokens that create the
account or replace an existing account's tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import redis

from email_service.accounts import use_cases
from email_service.accounts.oauth.endpoint import microsoft_url, provider_endpoint
from email_service.accounts.oauth.token_client import TokenRefusedError, TokenTransientError, code_grant
from email_service.accounts.schemas import AccountCreate
from email_service.core.config import Settings, get_settings
from email_service.core.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from email_service.core.tenancy.tokens import Identity
from email_service.sync.lock import redis_client

STATE_PREFIX = "email_service:oauth_state:"
STATE_TTL_SECONDS = 600
SCOPES = {
    "google": "https://mail.google.com/ openid email",
    "microsoft": "offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
    "https://outlook.office.com/SMTP.Send openid email",
}
# Google hands out a refresh token only with offline access, and again only when consent is asked.
EXTRA = {"google": {"access_type": "offline", "prompt": "consent"}, "microsoft": {}}


def start_authorization(caller: Identity, provider: str, query: dict[str, Any]) -> dict[str, Any]:
    """The authorize URL for `provider`; 409 when the service has no client for it or no redirect URI."""
    settings = get_settings()
    client_id = _client_id(settings, provider)
    if query.get("account_id"):
        use_cases.show_account(caller, query["account_id"])  # 404 unless the caller's
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    pending = {"tenant_id": caller.tenant_id, "user_id": caller.user_id, "provider": provider, "query": query}
    _store(settings, _key(caller, provider, state), {**pending, "verifier": verifier})
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": settings.oauth_redirect_uri,
        "scope": SCOPES[provider],
        "state": state,
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
        "login_hint": query["email_address"],
        **EXTRA[provider],
    }
    url = f"{_authorize_endpoint(settings, provider)}?{urlencode(params)}"
    return {"authorize_url": url, "state": state, "expires_in": STATE_TTL_SECONDS}


def finish_authorization(
    caller: Identity, provider: str, code: str, state: str
) -> tuple[dict[str, Any], bool]:
    """(the account view, created?) once the code is exchanged; 404 for an unknown, used or foreign state."""
    settings = get_settings()
    _client_id(settings, provider)
    pending = _take(settings, _key(caller, provider, state))  # another caller's state is another key:
    if pending is None:  # it stays usable by its owner
        raise NotFound("authorization not found or expired: start again", {"state": "unknown"})
    endpoint = provider_endpoint(provider, settings, None, None, None)
    try:
        grant = code_grant(
            endpoint, code, pending["verifier"], settings.oauth_redirect_uri, settings.allowed_private_hosts
        )
    except TokenRefusedError as exc:
        raise ValidationFailed(f"the provider refused the authorization code: {exc}") from None
    except TokenTransientError as exc:
        raise ServiceUnavailable(f"the provider's token endpoint did not answer: {exc}") from None
    expires = datetime.now(UTC) + timedelta(seconds=grant.expires_in or 3600)
    auth = {
        "type": "oauth2",
        "provider": provider,
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "expires_at": expires,
        "scope": grant.scope or SCOPES[provider],
    }
    query = pending["query"]
    if query.get("account_id"):
        return use_cases.change_account(caller, query["account_id"], {"auth": auth}), False
    fields = {k: v for k, v in query.items() if v is not None and k != "account_id"}
    body = AccountCreate.model_validate({**fields, "auth": {**auth, "expires_at": int(expires.timestamp())}})
    return use_cases.add_account(caller, body.model_dump(), body.model_fields_set), True


def _client_id(settings: Settings, provider: str) -> str:
    client_id = settings.google_client_id if provider == "google" else settings.microsoft_client_id
    if provider not in SCOPES:
        raise NotFound(f"unknown OAuth2 provider {provider!r}", {"provider": provider})
    if not client_id or not settings.oauth_redirect_uri:
        raise Conflict(
            f"OAuth2 sign-in with {provider} is not configured "
            f"({provider.upper()}_CLIENT_ID, OAUTH_REDIRECT_URI)",
            {"provider": provider},
        )
    return client_id


def _authorize_endpoint(settings: Settings, provider: str) -> str:
    return settings.google_authorize_url if provider == "google" else microsoft_url(settings, "authorize")


def _key(caller: Identity, provider: str, state: str) -> str:
    """The Redis key of a pending authorization: only its own caller and provider can find it."""
    digest = hashlib.sha256("\0".join((caller.tenant_id, caller.user_id, provider, state)).encode())
    return STATE_PREFIX + digest.hexdigest()


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _store(settings: Settings, key: str, value: dict[str, Any]) -> None:
    client = redis_client(settings.broker_url)
    try:
        client.set(key, json.dumps(value), ex=STATE_TTL_SECONDS)
    except redis.RedisError as exc:
        raise ServiceUnavailable("cannot start the authorization now, try again shortly") from exc
    finally:
        client.close()


def _take(settings: Settings, key: str) -> dict[str, Any] | None:
    """The pending authorization, removed at once: a state works once."""
    client = redis_client(settings.broker_url)
    try:
        raw = client.getdel(key)
    except redis.RedisError as exc:
        raise ServiceUnavailable("cannot finish the authorization now, try again shortly") from exc
    finally:
        client.close()
    return json.loads(raw) if raw else None
