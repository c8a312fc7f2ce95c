"""OAuth2 accounts for the integration tests: created over HTTP with tokens from the test token server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth import secrets
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from tests.conftest import Caller
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer
from tests.servers.token_server import IssuedTokens, TokenServer


@dataclass(frozen=True)
class OAuthAccount:
    caller: Caller
    user: ImapUser
    account_id: str
    tokens: IssuedTokens

    @property
    def ids(self) -> dict[str, str]:
        return {
            "email_client_id": self.account_id,
            "tenant_id": self.caller.tenant_id,
            "user_id": self.caller.user_id,
        }


def oauth_body(
    user: ImapUser,
    tokens: IssuedTokens,
    token_server: TokenServer,
    smtp: SmtpTestServer | None = None,
    **auth: Any,
) -> dict[str, Any]:
    """POST /api/accounts for `user` on a Dovecot with the oauth2 passdb, SMTP on `smtp` when given."""
    body: dict[str, Any] = {
        "email_address": user.email,
        "imap_host": user.host,
        "imap_port": user.port,
        "imap_security": "none",
        "smtp_host": smtp.host if smtp else user.host,
        "smtp_port": smtp.port if smtp else 9,
        "smtp_security": "starttls" if smtp else "none",
        "username": user.username,
        "auth": {
            "type": "oauth2",
            "provider": "custom",
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": int(tokens.expires_at),
            "token_url": token_server.token_url,
            "client_id": token_server.client_id,
            "client_secret": token_server.client_secret,
            "scope": "mail",
            **auth,
        },
    }
    if smtp:
        body["pinned_cert_pem"] = smtp.cert_pem
    return body


def create_oauth_account(
    client: Any,
    caller: Caller,
    user: ImapUser,
    token_server: TokenServer,
    smtp: SmtpTestServer | None = None,
    lifetime: float | None = None,
) -> OAuthAccount:
    tokens = token_server.issue(user.username, lifetime)
    response = client.post(
        "/api/accounts", json=oauth_body(user, tokens, token_server, smtp), headers=caller.headers
    )
    assert response.status_code == 201, response.get_json()
    return OAuthAccount(caller, user, response.get_json()["id"], tokens)


@dataclass(frozen=True)
class StoredTokens:
    state: str
    last_error: str | None
    access_token: str
    refresh_token: str | None
    expires_at: float


def stored(account: OAuthAccount) -> StoredTokens:
    """The account row's state and its tokens, decrypted."""
    with session_scope(account.caller.tenant_id) as session:
        row = session.get(EmailAccount, account.account_id)
        assert row is not None and row.oauth_expires_at is not None
        box = get_secret_box()
        return StoredTokens(
            row.state,
            row.last_error,
            secrets.access_token(box, row),
            secrets.unseal(box, row, "oauth_refresh_ciphertext"),
            row.oauth_expires_at.timestamp(),
        )
