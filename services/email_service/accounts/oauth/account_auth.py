"""An account's OAuth2 fields from the API's auth object, and the view of them that the API shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth import secrets
from email_service.core.crypto import SecretBox


def expiry(value: datetime | int) -> datetime:
    """expires_at as given: an aware datetime, or epoch seconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(value, UTC)


def apply_oauth2(box: SecretBox, account: EmailAccount, auth: dict[str, Any]) -> None:
    """Switch the account to OAuth2 with these tokens (encrypted); the password is cleared."""
    account.auth_type = "oauth2"
    account.oauth_provider = auth["provider"]
    account.secret_ciphertext = box.encrypt("", account.id)
    secrets.store_tokens(
        box, account, auth["access_token"], auth.get("refresh_token"), expiry(auth["expires_at"])
    )
    # google/microsoft: their own token URL always; the client only when the tokens came with one.
    account.oauth_token_url = auth.get("token_url") if auth["provider"] == "custom" else None
    account.oauth_client_id = auth.get("client_id")
    secrets.seal(box, account, "oauth_client_secret_ciphertext", auth.get("client_secret"))
    account.oauth_scope = auth.get("scope")


def auth_view(account: EmailAccount) -> dict[str, Any]:
    """How the account logs in, without any token or secret."""
    oauth = account.auth_type == "oauth2"
    return {
        "type": account.auth_type or "password",
        "provider": account.oauth_provider if oauth else None,
        "expires_at": account.oauth_expires_at.isoformat() if oauth and account.oauth_expires_at else None,
        "scope": account.oauth_scope if oauth else None,
        "has_refresh_token": bool(oauth and account.oauth_refresh_ciphertext),
    }
