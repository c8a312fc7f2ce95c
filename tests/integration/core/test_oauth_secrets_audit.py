"""With known OAuth2 tokens and client secret, run create, a refresh, syncs, the connection test, a send,
an invalid_grant and a rate-limited refresh at DEBUG: no token (nor the SASL payload carrying it) appears
in clear in the API bodies, logs, task results or the database."""

from __future__ import annotations

import base64
import logging
from typing import Any

from email_service.core.config import get_settings
from email_service.mail.sasl import oauthbearer_payload, xoauth2_payload
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller, ServerSet
from tests.integration.accounts.oauth_support import oauth_body
from tests.integration.core.audit_support import database_dump, leaks, redis_dump
from tests.integration.core.test_secrets_audit import Api
from tests.integration.sending.send_support import SendAccount, run_task
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer
from tests.servers.token_server import TokenServer


def token_forms(username: str, token: str) -> list[str]:
    """The token and the SASL payloads (base64) that carry it."""
    return [
        token,
        base64.b64encode(xoauth2_payload(username, token)).decode(),
        base64.b64encode(oauthbearer_payload(username, token)).decode(),
        base64.b64encode(token.encode()).decode(),
    ]


def test_tokens_appear_nowhere_in_clear(
    client: Any,
    owner: Caller,
    clean_db: ServerSet,
    oauth_user: ImapUser,
    token_server: TokenServer,
    oauth_smtp: SmtpTestServer,
    caplog: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    api = Api(client, owner)
    tokens = token_server.issue(oauth_user.username, lifetime=-5)  # expired: the first login refreshes
    created = api("post", "/api/accounts", json=oauth_body(oauth_user, tokens, token_server, oauth_smtp))
    account_id = created.get_json()["id"]
    ids = {"email_client_id": account_id, "tenant_id": owner.tenant_id, "user_id": owner.user_id}
    synced = sync_emails.apply(kwargs=ids)
    assert synced.successful(), synced.traceback
    api.bodies.append(repr(synced.result))
    assert api("post", f"/api/accounts/{account_id}/test").get_json()["ok"] is True
    queued = api(
        "post",
        "/api/email/send",
        json={"email_client_id": account_id, "to": ["bob@example.test"], "subject": "audit"},
    )
    sent = run_task(SendAccount(owner, account_id, oauth_user.email), queued.get_json()["taskId"])
    assert sent.successful(), sent.traceback
    api.bodies.append(repr(sent.result))
    api("get", f"/api/accounts/{account_id}")
    api("get", "/api/accounts")

    expired = token_server.issue(oauth_user.username, lifetime=-5)
    auth = oauth_body(oauth_user, expired, token_server)["auth"]
    api("patch", f"/api/accounts/{account_id}", json={"auth": auth})
    token_server.script(429, {"error": "slow_down"})
    limited = sync_emails.apply(kwargs=ids)  # retried inline, then succeeds
    api.bodies.append(repr(limited.result) + str(limited.traceback))
    gone = token_server.issue(oauth_user.username, lifetime=-5)
    token_server.revoke_refresh(gone.refresh_token)
    api(
        "patch",
        f"/api/accounts/{account_id}",
        json={"auth": oauth_body(oauth_user, gone, token_server)["auth"]},
    )
    refused = sync_emails.apply(kwargs=ids)
    assert refused.failed()
    api.bodies.append(repr(refused.result) + str(refused.traceback))
    assert api("get", f"/api/accounts/{account_id}").get_json()["state"] == "auth_error"

    places: dict[str, list[str]] = {
        "API bodies": api.bodies,
        # (aiosmtpd, the test's SMTP server, logs what it receives: only our own records count.)
        "caplog": [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")],
    }
    settings = get_settings()
    for name, url in (("broker", settings.broker_url), ("results", settings.result_backend_url)):
        places.update({f"{name} {k}": v for k, v in redis_dump(url).items()})
    places.update({f"table {k}": v for k, v in database_dump(clean_db.db.admin_url).items()})
    assert places["table email_accounts"] and len(oauth_smtp.messages) == 1
    assert any("refreshed" in r.getMessage() for r in caplog.records)  # our own records were captured
    issued = token_server.issued_to(oauth_user.username)
    assert len(issued) >= 8  # the three grants given, and what the refreshes issued
    forms = [f for token in issued for f in token_forms(oauth_user.username, token)]
    forms.append(token_server.client_secret)
    assert leaks(places, forms) == []
