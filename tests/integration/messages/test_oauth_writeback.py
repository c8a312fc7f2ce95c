"""Write-backs and the raw download of an OAuth2 account refresh an expiring token before their own login,
as sync does: with tokens that live 30 s (under the 60 s margin) every login needs a refresh."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from email_service.sync.tasks import sync_emails
from tests.conftest import Caller
from tests.integration.accounts.oauth_support import create_oauth_account, stored
from tests.integration.deletion.delete_support import ids_by_subject
from tests.integration.messages.actions_support import run_task, server_flags
from tests.integration.sync.sync_support import SyncAccount, message
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.token_server import TokenServer


@pytest.fixture
def short_lived(token_server: TokenServer) -> Iterator[TokenServer]:
    token_server.lifetime = 30
    yield token_server
    token_server.lifetime = 3600


def test_flag_write_back_and_raw_refresh_their_token(
    client: Any, owner: Caller, oauth_user: ImapUser, short_lived: TokenServer
) -> None:
    oauth = create_oauth_account(client, owner, oauth_user, short_lived, lifetime=-5)
    oauth_user.server.seed_maildir(oauth_user.username, "INBOX", [message(1)])
    account = SyncAccount(owner, oauth_user, oauth.account_id)
    asked = len(short_lived.refresh_requests)
    assert sync_emails.apply(kwargs=oauth.ids).get()["messages_synced"] == 1
    (first,) = ids_by_subject(account, "INBOX", "message 1")
    patched = client.patch(f"/api/email/messages/{first}", json={"is_read": True}, headers=owner.headers)
    assert patched.status_code == 200, patched.get_json()
    assert run_task(account, patched.get_json()["taskId"]).get()["status"] == "success"
    assert server_flags(oauth_user)["message 1"] == {"\\Seen"}
    raw = client.get(f"/api/email/messages/{first}/raw", headers=owner.headers)
    assert raw.status_code == 200 and b"Subject: message 1" in raw.data
    assert len(short_lived.refresh_requests) - asked >= 3  # sync, write-back, raw: one refresh each
    now = stored(oauth)
    assert now.state == "active" and short_lived.refresh_token_valid(now.refresh_token or "")
