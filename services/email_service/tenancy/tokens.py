"""JWT issue and verification (HS256; claims sub, tenant_id, exp)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from email_service.config import Settings
from email_service.errors import Unauthorized


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


def verify_token(settings: Settings, token: str) -> Identity:
    """Return the identity in a valid token; any defect is a 401 with a reason, never a 500."""
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
    return Identity(tenant_id=tenant, user_id=sub)
