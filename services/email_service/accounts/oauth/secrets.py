"""An OAuth2 account's tokens at rest: each ciphertext is bound to the account id and its field name,
so an access token pasted into the refresh column (or onto another account) does not decrypt."""

from __future__ import annotations

from datetime import datetime

from email_service.accounts.model import EmailAccount
from email_service.core.crypto import SecretBox

ENCRYPTED_FIELDS = ("oauth_access_ciphertext", "oauth_refresh_ciphertext", "oauth_client_secret_ciphertext")


def _context(account: EmailAccount, column: str) -> str:
    return f"{account.id}:{column}"


def seal(box: SecretBox, account: EmailAccount, column: str, value: str | None) -> None:
    """Encrypt `value` into `column` (None clears it)."""
    setattr(account, column, None if value is None else box.encrypt(value, _context(account, column)))


def unseal(box: SecretBox, account: EmailAccount, column: str) -> str | None:
    token = getattr(account, column)
    return None if token is None else box.decrypt(token, _context(account, column))


def store_tokens(
    box: SecretBox, account: EmailAccount, access: str, refresh: str | None, expires_at: datetime | None
) -> None:
    """A new access token and expiry; the refresh token only when one came (rotation: keep the newest)."""
    seal(box, account, "oauth_access_ciphertext", access)
    if refresh:
        seal(box, account, "oauth_refresh_ciphertext", refresh)
    account.oauth_expires_at = expires_at


def access_token(box: SecretBox, account: EmailAccount) -> str:
    return unseal(box, account, "oauth_access_ciphertext") or ""


def rotate_keys(box: SecretBox, account: EmailAccount) -> int:
    """Re-encrypt the account's OAuth2 secrets made with an older key (rotate-key); returns how many."""
    rotated = 0
    for column in ENCRYPTED_FIELDS:
        token = getattr(account, column)
        if token is not None and box.needs_rotation(token):
            seal(box, account, column, unseal(box, account, column))
            rotated += 1
    return rotated
