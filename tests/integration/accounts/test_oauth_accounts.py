"""OAuth2 accounts over HTTP: created with tokens that never come back, validated, encrypted at rest;
the connection test logs in with XOAUTH2/OAUTHBEARER against Dovecot's oauth2 passdb and the SMTP server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from email_service.core.db import make_engine
from tests.conftest import Caller, ServerSet
from tests.integration.accounts.oauth_support import create_oauth_account, oauth_body, stored
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer
from tests.servers.token_server import TokenServer


def secrets_of(token_server: TokenServer, tokens: object) -> list[str]:
    return [tokens.access_token, tokens.refresh_token, token_server.client_secret]  # type: ignore[attr-defined]


def test_create_shows_no_token_and_stores_them_encrypted(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer, clean_db: ServerSet
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server)
    shown = [
        client.get(f"/api/accounts/{account.account_id}", headers=owner.headers).get_data(as_text=True),
        client.get("/api/accounts", headers=owner.headers).get_data(as_text=True),
    ]
    view = json.loads(shown[0])
    assert view["auth"] == {
        "type": "oauth2",
        "provider": "custom",
        "expires_at": datetime.fromtimestamp(int(account.tokens.expires_at), UTC).isoformat(),
        "scope": "mail",
        "has_refresh_token": True,
    }
    assert view["username"] == oauth_user.username and view["state"] == "active"
    for secret in secrets_of(token_server, account.tokens):
        assert all(secret not in body for body in shown)
    engine = make_engine(clean_db.db.admin_url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM email_accounts WHERE id = :id"), {"id": account.account_id})
        values = [str(v) for v in row.one()]
    engine.dispose()
    for secret in secrets_of(token_server, account.tokens):
        assert not any(secret in value for value in values)
    assert stored(account).access_token == account.tokens.access_token


def test_expires_at_takes_iso_with_offset_or_epoch_seconds(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer
) -> None:
    tokens = token_server.issue(oauth_user.username)
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    for given in (when.astimezone().isoformat(), "2030-01-02T05:04:05+02:00", int(when.timestamp())):
        body = oauth_body(oauth_user, tokens, token_server, expires_at=given)
        response = client.post("/api/accounts", json=body, headers=owner.headers)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["auth"]["expires_at"] == when.isoformat()
    naive = oauth_body(oauth_user, tokens, token_server, expires_at="2030-01-02T03:04:05")
    assert client.post("/api/accounts", json=naive, headers=owner.headers).status_code == 422


def test_validation(client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer) -> None:
    tokens = token_server.issue(oauth_user.username)
    cases = [
        {**oauth_body(oauth_user, tokens, token_server), "password": "also-a-password"},
        oauth_body(oauth_user, tokens, token_server, provider="yahoo"),
        oauth_body(oauth_user, tokens, token_server, token_url=None),
        oauth_body(oauth_user, tokens, token_server, token_url="ftp://127.0.0.1/token"),
        oauth_body(oauth_user, tokens, token_server, access_token="a\r\nb"),
    ]
    for body in cases:
        response = client.post("/api/accounts", json=body, headers=owner.headers)
        assert response.status_code == 422, body["auth"]
        assert tokens.access_token not in response.get_data(as_text=True)  # errors do not echo tokens


def test_connection_test_logs_in_with_the_token_on_imap_and_smtp(
    client,
    owner: Caller,
    oauth_user: ImapUser,
    token_server: TokenServer,
    oauth_smtp: SmtpTestServer,
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server, smtp=oauth_smtp)
    result = client.post(f"/api/accounts/{account.account_id}/test", headers=owner.headers).get_json()
    assert result["ok"] is True, result
    assert oauth_smtp.bearer_logins == [("XOAUTH2", oauth_user.username)]
    assert f"user=<{oauth_user.username}>, method=OAUTHBEARER" in oauth_user.server.log_path.read_text()


def test_connection_test_with_a_refused_token_says_authentication_failed(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer, oauth_smtp: SmtpTestServer
) -> None:
    tokens = token_server.issue(oauth_user.username)
    body = oauth_body(oauth_user, tokens, token_server, smtp=oauth_smtp, access_token="at-not-issued")
    account_id = client.post("/api/accounts", json=body, headers=owner.headers).get_json()["id"]
    result = client.post(f"/api/accounts/{account_id}/test", headers=owner.headers).get_json()
    assert result["ok"] is False
    assert result["imap"]["reason"] == result["smtp"]["reason"] == "authentication_failed"
    assert "at-not-issued" not in json.dumps(result)


def test_patch_with_new_tokens_reactivates_the_account(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server)
    fresh = token_server.issue(oauth_user.username)
    auth = oauth_body(oauth_user, fresh, token_server)["auth"]
    expires = datetime.now(UTC) + timedelta(hours=2)
    response = client.patch(
        f"/api/accounts/{account.account_id}",
        json={"auth": {**auth, "expires_at": expires.isoformat()}},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.get_json()
    assert fresh.access_token not in response.get_data(as_text=True)
    now = stored(account)
    assert (now.access_token, now.refresh_token) == (fresh.access_token, fresh.refresh_token)


def test_connection_test_with_a_refused_or_rate_limited_refresh(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server, lifetime=-5)
    token_server.script(429, {"error": "slow_down"})
    limited = client.post(f"/api/accounts/{account.account_id}/test", headers=owner.headers)
    assert limited.status_code == 200 and limited.get_json()["imap"]["reason"] == "connection_failed"
    assert stored(account).state == "active"
    token_server.revoke_refresh(account.tokens.refresh_token)
    refused = client.post(f"/api/accounts/{account.account_id}/test", headers=owner.headers).get_json()
    assert refused["ok"] is False
    assert refused["imap"]["reason"] == refused["smtp"]["reason"] == "authentication_failed"
    assert stored(account).state == "auth_error"


def test_smtp_prefers_oauthbearer_when_the_server_offers_both(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer
) -> None:
    both = ("XOAUTH2", "OAUTHBEARER")
    with SmtpTestServer({}, token_checker=token_server.is_active, oauth_mechanisms=both) as smtp:
        account = create_oauth_account(client, owner, oauth_user, token_server, smtp=smtp)
        result = client.post(f"/api/accounts/{account.account_id}/test", headers=owner.headers).get_json()
        assert result["ok"] is True, result
        assert smtp.bearer_logins == [("OAUTHBEARER", oauth_user.username)]
        body = oauth_body(oauth_user, account.tokens, token_server, smtp=smtp, access_token="at-not-issued")
        refused_id = client.post("/api/accounts", json=body, headers=owner.headers).get_json()["id"]
        refused = client.post(f"/api/accounts/{refused_id}/test", headers=owner.headers).get_json()
        assert refused["smtp"]["reason"] == "authentication_failed"
