"""Drafts over HTTP with a real worker: save, replace, send; each write-back ends `success` through
GET /api/tasks/<id>, Dovecot's Drafts folder holds exactly the latest version, and the send goes out once."""

from __future__ import annotations

from tests.conftest import make_caller
from tests.e2e.http import call, poll_task
from tests.integration.sending.draft_support import server_drafts
from tests.integration.sending.send_support import make_send_account


def test_drafts_through_worker_and_api(api_url, worker, clean_db, imap_user, smtp) -> None:
    owner = make_caller()
    account = make_send_account(owner, smtp, imap_user)
    body = {"email_client_id": account.account_id, "to": ["bob@example.test"], "subject": "e2e draft"}
    status, draft = call("POST", f"{api_url}/api/email/drafts", owner.token, body)
    assert status == 201, draft
    assert poll_task(api_url, owner.token, draft["taskId"])["status"] == "success"
    [copy] = server_drafts(imap_user)
    assert copy["subject"] == "e2e draft" and "\\Draft" in copy["flags"]

    url = f"{api_url}/api/email/drafts/{draft['id']}"
    status, saved = call("PUT", url, owner.token, {**body, "subject": "e2e draft v2"})
    assert status == 200 and saved["version"] == 2, saved
    assert poll_task(api_url, owner.token, saved["taskId"])["status"] == "success"
    assert [d["subject"] for d in server_drafts(imap_user)] == ["e2e draft v2"]

    status, sent = call("POST", f"{url}/send", owner.token)
    assert status == 202, sent
    assert poll_task(api_url, owner.token, sent["taskId"])["result"]["status"] == "sent"
    assert poll_task(api_url, owner.token, sent["removal_task_id"])["status"] == "success"
    assert server_drafts(imap_user) == []
    assert [m.rcpt_tos for m in smtp.messages] == [("bob@example.test",)]
    assert call("POST", f"{url}/send", owner.token)[0] == 409
