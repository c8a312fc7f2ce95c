"""Drafts against real Dovecot and the SMTP test server: each save puts exactly one copy (the latest
version, with \\Draft) into the server's Drafts folder, checked on a connection of its own; a sync
recognises the copy instead of doubling the draft; delete and send take it away; a send is once only."""

from __future__ import annotations

from typing import Any

import pytest

from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sending.draft_support import (
    batches,
    mirror_rows,
    post_draft,
    put_draft,
    run_write_back,
    server_drafts,
    task_status,
)
from tests.integration.sending.send_support import SendAccount, make_send_account, parse
from tests.integration.sending.send_support import run_task as run_send
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user
from tests.servers.smtp_server import SmtpTestServer

BOB = "bob@example.test"


@pytest.fixture
def account(owner: Caller, smtp: SmtpTestServer, imap_user: ImapUser) -> SendAccount:
    return make_send_account(owner, smtp, imap_user)


def sync(account: SendAccount) -> None:
    run_account_sync(account.account_id, account.caller.tenant_id, account.caller.user_id)


def drafts_listing(client: Any, account: SendAccount) -> list[dict[str, Any]]:
    response = client.get("/api/email/drafts", headers=account.caller.headers)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def test_save_replace_delete_keep_exactly_one_copy_on_the_server(
    client: Any, account: SendAccount, imap_user: ImapUser
) -> None:
    created = post_draft(client, account, to=[BOB], bcc=["hidden@example.test"], subject="first try")
    assert created.status_code == 201, created.get_json()
    draft = created.get_json()
    assert (draft["subject"], draft["version"], draft["server_version"]) == ("first try", 1, None)
    assert server_drafts(imap_user) == []  # saved locally at once, on the server by the task

    assert run_write_back(account, draft["taskId"]).get()["status"] == "success"
    [copy] = server_drafts(imap_user)
    assert copy["subject"] == "first try" and "\\Draft" in copy["flags"]
    assert copy["message_id"] == draft["message_id"] and copy["bcc"] == "hidden@example.test"
    assert task_status(client, account, draft["taskId"])["status"] == "success"

    sync(account)  # the sync mirrors the copy: recognised as this draft, no second draft
    [listed] = drafts_listing(client, account)
    [mirrored] = mirror_rows(account)
    assert listed["id"] == draft["id"] and listed["email_id"] == mirrored.id
    assert listed["server_version"] == 1

    replaced = put_draft(client, account, draft["id"], to=[BOB], subject="second try", body_text="more")
    assert replaced.status_code == 200, replaced.get_json()
    second = replaced.get_json()
    assert (second["version"], second["subject"]) == (2, "second try")
    assert second["message_id"] != draft["message_id"]
    run_write_back(account, second["taskId"]).get()
    [copy2] = server_drafts(imap_user)
    assert (copy2["subject"], copy2["message_id"]) == ("second try", second["message_id"])
    assert "\\Draft" in copy2["flags"] and copy2["uid"] != copy["uid"]
    assert mirror_rows(account) == []  # the old version's mirror row went with it
    run_write_back(account, second["taskId"]).get()  # a redelivery changes nothing
    assert [d["uid"] for d in server_drafts(imap_user)] == [copy2["uid"]]
    sync(account)
    assert [d["id"] for d in drafts_listing(client, account)] == [draft["id"]]

    removed = client.delete(f"/api/email/drafts/{draft['id']}", headers=account.caller.headers)
    assert removed.status_code == 202, removed.get_json()
    assert client.get(f"/api/email/drafts/{draft['id']}", headers=account.caller.headers).status_code == 404
    run_write_back(account, removed.get_json()["taskId"]).get()
    assert server_drafts(imap_user) == []
    assert task_status(client, account, removed.get_json()["taskId"])["result"]["action"] == "draft_delete"


def test_saves_whose_tasks_run_late_or_out_of_order_leave_the_latest_version(
    client: Any, account: SendAccount, imap_user: ImapUser
) -> None:
    draft = post_draft(client, account, subject="v1").get_json()  # no recipient yet: fine for a draft
    first_batch = batches(account)[-1]
    sync(account)  # before the server has it: nothing to mirror, nothing doubled
    second = put_draft(client, account, draft["id"], subject="v2").get_json()
    third = put_draft(client, account, draft["id"], subject="v3").get_json()
    run_write_back(account, third["taskId"]).get()
    run_write_back(account, draft["taskId"], first_batch).get()  # the oldest request's task comes last
    run_write_back(account, second["taskId"], batches(account)[-2]).get()
    assert [d["subject"] for d in server_drafts(imap_user)] == ["v3"]
    sync(account)
    [listed] = drafts_listing(client, account)
    assert (listed["subject"], listed["version"], listed["server_version"]) == ("v3", 3, 3)


def test_send_goes_out_once_and_removes_the_draft(
    client: Any, account: SendAccount, smtp: SmtpTestServer, imap_user: ImapUser
) -> None:
    draft = post_draft(client, account, to=[f"Bob <{BOB}>"], subject="ship it", body_text="Hello").get_json()
    run_write_back(account, draft["taskId"]).get()
    assert len(server_drafts(imap_user)) == 1

    response = client.post(f"/api/email/drafts/{draft['id']}/send", headers=account.caller.headers)
    assert response.status_code == 202, response.get_json()
    accepted = response.get_json()
    assert accepted["status"] == "queued" and accepted["draft_id"] == draft["id"]
    again = client.post(f"/api/email/drafts/{draft['id']}/send", headers=account.caller.headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    edit = put_draft(client, account, draft["id"], to=[BOB], subject="too late")
    assert edit.status_code == 409
    assert drafts_listing(client, account) == []
    shown = client.get(f"/api/email/drafts/{draft['id']}", headers=account.caller.headers).get_json()
    assert (shown["status"], shown["outbox_id"]) == ("sent", accepted["taskId"])

    sent = run_send(account, accepted["taskId"])
    assert sent.successful(), sent.traceback
    assert sent.result["status"] == "sent"
    [delivered] = smtp.messages
    assert delivered.rcpt_tos == (BOB,) and parse(delivered.data)["Subject"] == "ship it"
    run_write_back(account, accepted["removal_task_id"]).get()
    assert server_drafts(imap_user) == []
    assert (
        client.post(f"/api/email/drafts/{draft['id']}/send", headers=account.caller.headers).status_code
        == 409
    )
    assert len(smtp.messages) == 1


def test_a_send_without_recipients_is_refused_like_api_send(client: Any, account: SendAccount) -> None:
    draft = post_draft(client, account, subject="nobody yet").get_json()
    response = client.post(f"/api/email/drafts/{draft['id']}/send", headers=account.caller.headers)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["details"]["fields"][0]["field"] == "to"
    shown = client.get(f"/api/email/drafts/{draft['id']}", headers=account.caller.headers).get_json()
    assert shown["status"] == "draft" and shown["outbox_id"] is None


def test_an_account_without_drafts_folder_gets_one(
    client: Any, owner: Caller, smtp: SmtpTestServer, dovecot_factory: DovecotFactory
) -> None:
    user = new_user(dovecot_factory(special_use=False))
    account = make_send_account(owner, smtp, user)
    draft = post_draft(client, account, subject="where to").get_json()
    assert run_write_back(account, draft["taskId"]).get()["status"] == "success"
    assert [d["subject"] for d in server_drafts(user)] == ["where to"]


def test_a_failed_write_back_says_why_and_keeps_the_draft(
    client: Any, owner: Caller, smtp: SmtpTestServer, imap_user: ImapUser
) -> None:
    account = make_send_account(owner, smtp, imap_user, imap_port=9)  # nothing listens there
    draft = post_draft(client, account, subject="offline").get_json()
    outcome = run_write_back(account, draft["taskId"])
    assert outcome.state == "FAILURE"
    status = task_status(client, account, draft["taskId"])
    assert status["status"] == "failed" and "IMAP connection failed" in status["error"]["message"]
    shown = client.get(f"/api/email/drafts/{draft['id']}", headers=owner.headers).get_json()
    assert (shown["subject"], shown["server_version"]) == ("offline", None)
