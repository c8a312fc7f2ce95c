"""Refresh an OAuth2 account's access token before a login, once across every worker.

Under a per-account Redis lock the account is re-read (another worker may have refreshed while we
waited), the token endpoint is asked outside any transaction, and the new access token, its expiry and
a rotated refresh token (the old one may stop working at once) are persisted before the lock is freed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import redis

from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth import secrets
from email_service.accounts.oauth.endpoint import TokenEndpoint, provider_endpoint
from email_service.accounts.oauth.token_client import (
    TokenGrant,
    TokenRefusedError,
    TokenTransientError,
    refresh_grant,
)
from email_service.core.config import get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.errors import PermanentError, TransientError
from email_service.events.log import account_parked
from email_service.sync.lock import AccountLock, redis_client

log = logging.getLogger(__name__)
LOCK_PREFIX = "email_service:oauth_refresh_lock:"
LOCK_TTL_SECONDS = 60  # longer than one token request (30 s timeout) plus the two short transactions
LOCK_WAIT_SECONDS = 40.0
DEFAULT_LIFETIME = timedelta(hours=1)  # a grant without expires_in
S = TypeVar("S", bound=Any)  # a frozen settings dataclass with an access_token field
REPLACED = object()  # _due: another worker has stored a newer access token already


class OAuthRefreshRefused(PermanentError):
    """The token endpoint refused the refresh token (invalid_grant): the account is in auth_error."""


class OAuthRefreshUnavailable(TransientError):
    """Rate limited, a server error or no answer from the token endpoint: retry later."""


@dataclass(frozen=True)
class _Due:
    endpoint: TokenEndpoint
    refresh_token: str = field(repr=False)


def ensure_fresh_token(
    tenant_id: str, user_id: str, account_id: str, *, lock_client: redis.Redis | None = None
) -> bool:
    """Refresh when at most OAUTH_REFRESH_MARGIN_SECONDS remain; True when this call refreshed.

    A password account, or a token with time left, costs one short read and no lock.
    """
    return _run(tenant_id, user_id, account_id, None, lock_client)


def refresh_refused_token(
    tenant_id: str, user_id: str, account_id: str, refused: str, *, lock_client: redis.Redis | None = None
) -> bool:
    """The server refused `refused` before its expiry (revoked early, or a server restart): refresh now,
    unless another worker already replaced it. True when another token is there to log in with."""
    return _run(tenant_id, user_id, account_id, refused, lock_client)


def _run(
    tenant_id: str, user_id: str, account_id: str, refused: str | None, lock_client: redis.Redis | None
) -> bool:
    first = _due(tenant_id, user_id, account_id, refused)
    if first is None or first is REPLACED:
        return first is REPLACED
    client = lock_client or redis_client(get_settings().broker_url)
    lock = AccountLock(client, account_id, LOCK_TTL_SECONDS, prefix=LOCK_PREFIX)
    try:
        _wait_for(lock)
        try:
            due = _due(tenant_id, user_id, account_id, refused)  # re-read: the holder we waited for
            if due is None or due is REPLACED:  # may have refreshed meanwhile
                return due is REPLACED
            assert isinstance(due, _Due)
            _refresh(tenant_id, account_id, due)
            return True
        finally:
            lock.release()
    except redis.RedisError as exc:
        raise OAuthRefreshUnavailable(f"token refresh lock unavailable: {exc}") from exc
    finally:
        if lock_client is None:
            client.close()


def with_fresh_token(
    settings: S, tenant_id: str, user_id: str, account_id: str, *, reload: bool = False
) -> S:
    """`settings` (IMAP or SMTP) built inside a transaction, with the stored access token after a refresh
    when it was about to expire (by this call or by another worker it waited for; with `reload`, no
    refresh, only the stored token); password settings come back as they are."""
    if getattr(settings, "access_token", None) is None:
        return settings
    if not reload:
        ensure_fresh_token(tenant_id, user_id, account_id)
    with session_scope(tenant_id) as session:
        account = session.get(EmailAccount, account_id)
        if account is None:
            return settings
        return replace(settings, access_token=secrets.access_token(get_secret_box(), account))


def refresh_failure(exc: OAuthRefreshRefused | OAuthRefreshUnavailable) -> dict[str, Any]:
    """A connection-test side for a failed refresh in fixed words (the endpoint's own text: last_error)."""
    if isinstance(exc, OAuthRefreshRefused):
        message = "the OAuth2 refresh token was refused: authorize the account again"
        return {"ok": False, "reason": "authentication_failed", "message": message}
    message = "the OAuth2 token endpoint could not refresh the token now; try again later"
    return {"ok": False, "reason": "connection_failed", "message": message}


def _wait_for(lock: AccountLock) -> None:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while not lock.acquire():
        if time.monotonic() >= deadline:
            raise OAuthRefreshUnavailable("another worker is still refreshing this account's token")
        time.sleep(0.1)


def _due(tenant_id: str, user_id: str, account_id: str, refused: str | None = None) -> _Due | object | None:
    """What a refresh needs, None when there is nothing to do (or nothing it could do), REPLACED when
    the `refused` token is no longer the stored one."""
    settings = get_settings()
    with session_scope(tenant_id) as session:
        account = session.get(EmailAccount, account_id)
        if account is None or account.user_id != user_id or account.auth_type != "oauth2":
            return None  # not this caller's (the use case's own ownership check answers), or no tokens
        if account.oauth_expires_at is None:
            return None
        box = get_secret_box()
        left = account.oauth_expires_at - datetime.now(UTC)
        if refused is not None:
            if secrets.access_token(box, account) != refused:
                return REPLACED
        elif left > timedelta(seconds=settings.oauth_refresh_margin_seconds):
            return None
        refresh_token = secrets.unseal(box, account, "oauth_refresh_ciphertext")
        if not refresh_token:
            return None  # nothing to refresh with: the login itself will say whether the token works
        endpoint = provider_endpoint(
            account.oauth_provider or "custom",
            settings,
            account.oauth_token_url,
            account.oauth_client_id,
            secrets.unseal(box, account, "oauth_client_secret_ciphertext"),
        )
        if account.oauth_scope and account.oauth_provider == "custom":  # google/microsoft: scope as granted
            endpoint = replace(endpoint, scope=account.oauth_scope)
        return _Due(endpoint, refresh_token)


def _refresh(tenant_id: str, account_id: str, due: _Due) -> None:
    allowed = get_settings().allowed_private_hosts
    try:
        grant = refresh_grant(due.endpoint, due.refresh_token, allowed)
    except TokenRefusedError as exc:
        _record_failure(tenant_id, account_id, f"OAuth2 token refresh refused: {exc}", park=True)
        raise OAuthRefreshRefused(f"OAuth2 token refresh refused: {exc}") from exc
    except TokenTransientError as exc:
        _record_failure(tenant_id, account_id, f"OAuth2 token refresh failed, will retry: {exc}", park=False)
        raise OAuthRefreshUnavailable(f"OAuth2 token refresh failed: {exc}") from exc
    _store(tenant_id, account_id, grant)
    log.info("OAuth2 access token of account %s refreshed", account_id)


def _store(tenant_id: str, account_id: str, grant: TokenGrant) -> None:
    lifetime = timedelta(seconds=grant.expires_in) if grant.expires_in is not None else DEFAULT_LIFETIME
    with session_scope(tenant_id) as session:
        account = session.get(EmailAccount, account_id)
        if account is None:
            return  # deleted meanwhile
        box = get_secret_box()
        expires_at = datetime.now(UTC) + lifetime
        secrets.store_tokens(box, account, grant.access_token, grant.refresh_token, expires_at)
        if grant.scope:
            account.oauth_scope = grant.scope


def _record_failure(tenant_id: str, account_id: str, reason: str, park: bool) -> None:
    """invalid_grant parks the account (auth_error, as a refused login does); a transient failure only
    says why in last_error and leaves the state alone."""
    with session_scope(tenant_id) as session:
        account = session.get(EmailAccount, account_id)
        if account is None:
            return
        account.last_error = reason
        if park and account.state != "auth_error":
            account.state = "auth_error"
            account_parked(session, (account.tenant_id, account.user_id), account_id)
