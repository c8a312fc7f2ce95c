"""send_email for an OAuth2 account: AUTH XOAUTH2 on the SMTP test server (token checked against the
token endpoint), the Sent copy over IMAP OAUTHBEARER, and a token refreshed first when it has expired."""

from __future__ import annotations

from typing import Any

from email_service.sync.tasks import sync_emails
from tests.conftest import Caller
from tests.integration.accounts.oauth_support import OAuthAccount, create_oauth_account, stored
from tests.integration.sending.send_support import SendAccount, post_send, run_task
from tests.integration.sync.sync_support import imap
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer
from tests.servers.token_server import TokenServer


def send_once(client: Any, account: OAuthAccount, subject: str) -> Any:
    sender = SendAccount(account.caller, account.account_id, account.user.email)
    response = post_send(client, sender, subject=subject, body_text="Hello\n")
    assert response.status_code == 202, response.get_json()
    return run_task(sender, str(response.get_json()["taskId"]))


def sent_subjects(user: ImapUser) -> list[bytes]:
    with imap(user) as client:
        client.select_folder("Sent", readonly=True)
        fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        return [data[b"BODY[HEADER.FIELDS (SUBJECT)]"].strip() for _uid, data in sorted(fetched.items())]


def test_send_authenticates_with_xoauth2_and_saves_the_sent_copy(
    client: Any, owner: Caller, oauth_user: ImapUser, token_server: TokenServer, oauth_smtp: SmtpTestServer
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server, smtp=oauth_smtp)
    assert sync_emails.apply(kwargs=account.ids).get()["status"] == "success"  # folders known: Sent
    result = send_once(client, account, "oauth hello")
    assert result.successful(), result.traceback
    assert result.result["status"] == "sent"
    [received] = oauth_smtp.messages
    assert received.user == oauth_user.username and received.mail_from == oauth_user.email
    assert oauth_smtp.bearer_logins == [("XOAUTH2", oauth_user.username)]
    assert sent_subjects(oauth_user) == [b"Subject: oauth hello"]
    assert account.tokens.access_token not in str(result.result)


def test_send_with_an_expired_token_refreshes_first(
    client: Any, owner: Caller, oauth_user: ImapUser, token_server: TokenServer, oauth_smtp: SmtpTestServer
) -> None:
    account = create_oauth_account(client, owner, oauth_user, token_server, smtp=oauth_smtp, lifetime=-5)
    result = send_once(client, account, "after refresh")
    assert result.successful(), result.traceback
    assert [m.user for m in oauth_smtp.messages] == [oauth_user.username]
    now = stored(account)
    assert now.access_token != account.tokens.access_token and token_server.is_active(now.access_token)
    assert not token_server.refresh_token_valid(account.tokens.refresh_token)
    assert token_server.refresh_token_valid(now.refresh_token or "")
