"""Sync of OAuth2 accounts against Dovecot's oauth2 passdb: OAUTHBEARER or XOAUTH2 by capability, and the
refresh of an expiring token through the test token endpoint (rotation, invalid_grant, 429)."""

from __future__ import annotations

import threading
import time

import pytest

from email_service.accounts.model import EmailAccount
from email_service.accounts.oauth.refresh import ensure_fresh_token
from email_service.core.db import session_scope
from email_service.sync.service import SyncAuthError
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller
from tests.integration.accounts.oauth_support import OAuthAccount, create_oauth_account, oauth_body, stored
from tests.integration.sync.sync_support import message
from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot_fixtures import ImapUser, new_user
from tests.servers.token_server import TokenServer


def notified(account: OAuthAccount) -> bool:
    with session_scope(account.caller.tenant_id) as session:
        row = session.get(EmailAccount, account.account_id)
        assert row is not None
        return bool(row.auth_error_notified)


def seed(account: OAuthAccount, count: int = 2) -> None:
    server = account.user.server
    server.seed_maildir(account.user.username, "INBOX", [message(i) for i in range(1, count + 1)])


def login_methods(server: DovecotServer, username: str) -> list[str]:
    marker = f"Login: user=<{username}>, method="
    lines = server.log_path.read_text().splitlines()
    return [line.split(marker, 1)[1].split(",", 1)[0] for line in lines if marker in line]


def test_sync_logs_in_with_oauthbearer_when_advertised(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server)
    seed(account)
    result = sync_emails.apply(kwargs=account.ids).get()
    assert result["status"] == "success" and result["messages_synced"] == 2
    assert set(login_methods(oauth_user.server, oauth_user.username)) == {"OAUTHBEARER"}
    assert token_server.refresh_token_valid(account.tokens.refresh_token)  # no refresh was needed


def test_sync_logs_in_with_xoauth2_when_only_that_is_advertised(
    client, owner: Caller, xoauth2_dovecot: DovecotServer, token_server: TokenServer
) -> None:
    user = new_user(xoauth2_dovecot)
    account = create_oauth_account(client, owner, user, token_server)
    seed(account, 1)
    result = sync_emails.apply(kwargs=account.ids).get()
    assert result["status"] == "success" and result["messages_synced"] == 1
    assert set(login_methods(xoauth2_dovecot, user.username)) == {"XOAUTH2"}


def test_expired_token_is_refreshed_and_the_rotated_refresh_token_kept(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server, lifetime=-5)
    assert token_server.is_active(account.tokens.access_token) is None  # Dovecot would refuse it
    seed(account)
    asked = len(token_server.refresh_requests)
    result = sync_emails.apply(kwargs=account.ids).get()
    assert result["status"] == "success" and result["messages_synced"] == 2
    now = stored(account)
    assert now.state == "active" and now.last_error is None
    assert now.access_token != account.tokens.access_token and token_server.is_active(now.access_token)
    assert now.refresh_token != account.tokens.refresh_token
    assert token_server.refresh_token_valid(now.refresh_token or "")
    assert not token_server.refresh_token_valid(account.tokens.refresh_token)  # the old one is dead
    assert now.expires_at > time.time() + 3000
    sent = token_server.refresh_requests[asked:]
    assert [r["grant_type"] for r in sent] == ["refresh_token"]
    assert sent[0]["client_id"] == token_server.client_id and sent[0]["scope"] == "mail"
    sync_emails.apply(kwargs=account.ids).get()  # the fresh token serves the next sync: no refresh
    assert len(token_server.refresh_requests) == asked + 1


def test_a_refresh_token_used_once_across_concurrent_logins(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer
) -> None:
    """Two workers find the token expiring at once: one refreshes, the other re-reads and uses it."""
    account = create_oauth_account(client, owner, oauth_user, token_server, lifetime=10)
    asked = len(token_server.refresh_requests)
    outcomes: list[bool | BaseException] = []

    def worker() -> None:
        try:
            outcomes.append(ensure_fresh_token(owner.tenant_id, owner.user_id, account.account_id))
        except BaseException as exc:  # reported below
            outcomes.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes, key=str) == [False, False, True]
    assert len(token_server.refresh_requests) == asked + 1
    assert token_server.refresh_token_valid(stored(account).refresh_token or "")


def test_invalid_grant_parks_the_account_in_auth_error(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer, task_retries: list[BaseException]
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server, lifetime=-5)
    token_server.revoke_refresh(account.tokens.refresh_token)
    outcome = sync_emails.apply(kwargs=account.ids)
    assert outcome.failed() and isinstance(outcome.result, SyncAuthError)
    assert task_retries == []  # bad credentials are not retried
    now = stored(account)
    assert now.state == "auth_error" and "invalid_grant" in (now.last_error or "")
    assert account.tokens.refresh_token not in (now.last_error or "")
    view = client.get(f"/api/accounts/{account.account_id}", headers=owner.headers).get_json()
    assert view["state"] == "auth_error" and "invalid_grant" in view["last_error"]
    assert notified(account)  # the owner was told (once: the flag holds until the account works again)

    fresh = token_server.issue(oauth_user.username)  # the user authorizes again: new tokens by PATCH
    auth = oauth_body(oauth_user, fresh, token_server)["auth"]
    response = client.patch(f"/api/accounts/{account.account_id}", json={"auth": auth}, headers=owner.headers)
    assert response.status_code == 200 and response.get_json()["state"] == "active"
    assert not notified(account)
    assert sync_emails.apply(kwargs=account.ids).get()["status"] == "success"


def test_rate_limited_token_endpoint_is_retried_not_auth_error(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer, task_retries: list[BaseException]
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server, lifetime=-5)
    seed(account, 1)
    token_server.script(429, {"error": "rate_limited"})
    outcome = sync_emails.apply(kwargs=account.ids)  # eager: the retry runs inline and succeeds
    assert outcome.successful(), outcome.result
    assert outcome.result["messages_synced"] == 1
    assert len(task_retries) == 1 and "429" in str(task_retries[0])
    now = stored(account)
    assert now.state == "active" and token_server.is_active(now.access_token)


def test_token_endpoint_down_leaves_the_account_active(
    owner: Caller, client, oauth_user: ImapUser, token_server: TokenServer
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server, lifetime=-5)
    token_server.script(503, {"error": "temporarily_unavailable"})
    with pytest.raises(Exception, match="503") as raised:
        ensure_fresh_token(owner.tenant_id, owner.user_id, account.account_id)
    assert type(raised.value).__name__ == "OAuthRefreshUnavailable"
    now = stored(account)
    assert now.state == "active" and "503" in (now.last_error or "")
    assert now.refresh_token == account.tokens.refresh_token  # nothing rotated, the old one still works


def test_a_token_revoked_before_its_expiry_is_refreshed_and_the_login_retried(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer
) -> None:
    tokens = token_server.issue(oauth_user.username)
    body = oauth_body(oauth_user, tokens, token_server, access_token="at-revoked-early")
    account_id = client.post("/api/accounts", json=body, headers=owner.headers).get_json()["id"]
    account = OAuthAccount(owner, oauth_user, account_id, tokens)
    seed(account, 1)
    result = sync_emails.apply(kwargs=account.ids).get()
    assert result["status"] == "success" and result["messages_synced"] == 1
    now = stored(account)
    assert now.state == "active" and token_server.is_active(now.access_token) == oauth_user.username
    assert not token_server.refresh_token_valid(tokens.refresh_token)


def test_a_token_refused_again_after_a_refresh_parks_the_account(
    client, owner: Caller, oauth_user: ImapUser, token_server: TokenServer, task_retries: list[BaseException]
) -> None:
    """Tokens of another user: the introspection names someone else, so even a fresh one is refused."""
    stranger = token_server.issue(f"{oauth_user.username}-other")
    body = oauth_body(oauth_user, stranger, token_server)
    account_id = client.post("/api/accounts", json=body, headers=owner.headers).get_json()["id"]
    account = OAuthAccount(owner, oauth_user, account_id, stranger)
    outcome = sync_emails.apply(kwargs=account.ids)
    assert outcome.failed() and isinstance(outcome.result, SyncAuthError) and task_retries == []
    now = stored(account)
    assert now.state == "auth_error" and "login refused" in (now.last_error or "")
    assert (
        len([r for r in token_server.refresh_requests if r.get("refresh_token") == stranger.refresh_token])
        == 1
    )
