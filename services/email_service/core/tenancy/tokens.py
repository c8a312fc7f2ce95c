"""JWT issue and verification (HS256; claims sub, tenant_id, exp)."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

import jwt
from cachetools import TLRUCache

from email_service.core.config import Settings
from email_service.core.errors import Unauthorized


@dataclass(frozen=True)
class Identity:
    tenant_id: str
    user_id: str


def issue_token(settings: Settings, tenant_id: str, user_id: str, ttl_seconds: int | None = None) -> str:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "tenant_id": tenant_id,
        "iat": now,
        "exp": now + (ttl_seconds or settings.jwt_ttl_seconds),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm)


# A polling client sends the same token many times a second. Its verified claims are kept, keyed by
# a hash of the exact token text and the key that checked it, so a changed byte or a rotated secret
# is a miss and gets the full check; exp is compared again on every hit. An entry is trusted for
# VERIFIED_TOKEN_TTL_SECONDS at most, and never past the token's own exp.
VERIFIED_TOKEN_TTL_SECONDS = 60.0
MAX_VERIFIED_TOKENS = 10_000


def _trusted_until(_key: object, value: tuple[Identity, float], now: float) -> float:
    return now + min(VERIFIED_TOKEN_TTL_SECONDS, value[1] - time.time())


_verified: TLRUCache[tuple[bytes, str, str], tuple[Identity, float]] = TLRUCache(
    MAX_VERIFIED_TOKENS, _trusted_until
)
_verified_lock = threading.Lock()  # cachetools caches are not thread-safe (gthread workers share them)


# 9999-12-31T23:59:59Z, the last instant a datetime can hold.
MAX_EXP = 253_402_300_799


def verify_token(settings: Settings, token: str) -> Identity:
    """Return the identity in a valid token; any defect is a 401 with a reason, never a 500."""
    key = (
        hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest(),
        settings.jwt_secret,
        settings.jwt_algorithm,
    )
    with _verified_lock:
        cached = _verified.get(key)
    if cached is not None:
        identity, expires_at = cached
        if time.time() >= expires_at:
            raise Unauthorized("token expired")
        return identity
    identity, expires_at = _decode(settings, token)
    with _verified_lock:
        _verified[key] = (identity, expires_at)
    return identity


def _decode(settings: Settings, token: str) -> tuple[Identity, float]:
    """The full PyJWT check (signature, algorithm, required claims, exp): identity and its exp."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["sub", "tenant_id", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(f"token lacks the {exc.claim} claim") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("invalid token") from None
    sub, tenant = claims.get("sub"), claims.get("tenant_id")
    if not isinstance(sub, str) or not isinstance(tenant, str) or not sub or not tenant:
        raise Unauthorized("token claims sub and tenant_id must be non-empty strings")
    exp = int(claims["exp"])  # as PyJWT compares it
    if exp > MAX_EXP:  # 10**400 passes PyJWT but is no float, no date and no cache lifetime
        raise Unauthorized("token exp is out of range")
    return Identity(tenant_id=tenant, user_id=sub), float(exp)
