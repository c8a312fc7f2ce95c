"""PATCH /api/email/messages/<id> and POST /api/email/flags against real Dovecot: the rows change at once,
a sync before the write-back keeps them, the task STOREs them (checked on a separate connection), and a
failure takes the change back and says why."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Caller
from tests.integration.deletion.delete_support import ids_by_subject, rows_in, seeded_account, sync
from tests.integration.messages.actions_support import (
    actions,
    latest_batch,
    on_server,
    run_task,
    server_flags,
    task_status,
)
from tests.integration.sync.sync_support import NO_CONDSTORE, SyncAccount, make_account, message
from tests.servers.dovecot_fixtures import DovecotFactory, new_user


def listing(client: Any, account: SyncAccount) -> dict[str, dict[str, Any]]:
    params = {"account_id": account.account_id, "limit": 100}
    response = client.get("/api/email/messages", query_string=params, headers=account.caller.headers)
    assert response.status_code == 200, response.get_json()
    return {item["subject"]: item for item in response.get_json()["items"]}


@pytest.mark.parametrize("capabilities", [None, NO_CONDSTORE])
def test_patch_shows_at_once_survives_a_sync_and_reaches_the_server(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory, capabilities: str | None
) -> None:
    account = seeded_account(owner, new_user(dovecot_factory(capabilities=capabilities)))
    (first,) = ids_by_subject(account, "INBOX", "message 1")
    body = {"is_read": True, "is_flagged": True, "add_keywords": ["$label1"]}
    response = client.patch(f"/api/email/messages/{first}", json=body, headers=owner.headers)
    assert response.status_code == 200, response.get_json()
    view = response.get_json()
    assert view["taskId"] and view["id"] == first
    assert view["is_read"] and view["is_flagged"]
    assert set(view["flags"]) == {"\\Seen", "\\Flagged", "$label1"}
    assert listing(client, account)["message 1"]["is_read"] is True
    assert server_flags(account.user)["message 1"] == set()

    sync(account)  # the server has not seen the change yet: the sync must not undo it
    assert listing(client, account)["message 1"]["is_flagged"] is True
    assert [a.state for a in actions(account)] == ["pending"]

    assert run_task(account, view["taskId"]).get()["status"] == "success"
    assert server_flags(account.user)["message 1"] == {"\\Seen", "\\Flagged", "$label1"}
    assert server_flags(account.user)["message 2"] == set()
    status = task_status(client, account, view["taskId"])
    assert status["status"] == "success" and status["result"]["done_count"] == 1
    assert [(a.state, a.attempts) for a in actions(account)] == [("done", 1)]

    undo = {"is_read": False, "remove_keywords": ["$label1"]}
    again = client.patch(f"/api/email/messages/{first}", json=undo, headers=owner.headers).get_json()
    assert set(again["flags"]) == {"\\Flagged"} and not again["is_read"]
    run_task(account, again["taskId"]).get()
    assert server_flags(account.user)["message 1"] == {"\\Flagged"}
    sync(account)
    assert [set(m.flags) for m in rows_in(account, "INBOX") if m.id == first] == [{"\\Flagged"}]


def test_bulk_flags_reflect_in_listings_and_rerun_is_harmless(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    account = seeded_account(owner, new_user(dovecot_factory()))
    ids = ids_by_subject(account, "INBOX", "message 1", "message 3")
    body = {"email_ids": ids, "add": ["\\Answered", "work"], "remove": []}
    response = client.post("/api/email/flags", json=body, headers=owner.headers)
    assert response.status_code == 202, response.get_json()
    task_id = response.get_json()["taskId"]
    rows = listing(client, account)
    assert [rows[s]["is_answered"] for s in ("message 1", "message 2", "message 3")] == [True, False, True]
    run_task(account, task_id).get()
    run_task(account, task_id).get()  # a redelivery: STORE is idempotent, nothing doubles
    flags = server_flags(account.user)
    answered = {"\\Answered", "work"}
    assert flags == {"message 1": answered, "message 2": set(), "message 3": answered}
    result = task_status(client, account, task_id)["result"]
    assert result["done_count"] == 2 and result["failed"] == []

    seen = {"email_ids": ids[:1], "add": ["\\Seen"]}
    unread = client.post("/api/email/flags", json=seen, headers=owner.headers)
    assert unread.status_code == 202
    assert listing(client, account)["message 1"]["is_read"] is True
    run_task(account, unread.get_json()["taskId"]).get()
    assert server_flags(account.user)["message 1"] == {"\\Answered", "work", "\\Seen"}


def test_a_refused_write_back_reverts_and_says_why(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    user = new_user(dovecot_factory())
    user.server.seed_maildir(user.username, "Work", [message(1, "in work")])
    account = make_account(owner, user)
    sync(account)
    (row,) = rows_in(account, "Work")
    response = client.patch(f"/api/email/messages/{row.id}", json={"is_read": True}, headers=owner.headers)
    task_id = response.get_json()["taskId"]
    assert response.get_json()["is_read"] is True
    on_server(user, "delete_folder", "Work")  # gone behind our back: STORE cannot happen

    outcome = run_task(account, task_id)
    assert outcome.state == "FAILURE"
    status = task_status(client, account, task_id)
    assert status["status"] == "failed" and "Work" in status["error"]["message"]
    (reverted,) = rows_in(account, "Work")
    assert reverted.is_read is False and reverted.flags == []
    (action,) = actions(account)
    assert action.state == "failed" and action.reason and "Work" in action.reason


def test_validation(client: Any, owner: Caller, dovecot_factory: DovecotFactory) -> None:
    account = seeded_account(owner, new_user(dovecot_factory()), inbox=1)
    (first,) = ids_by_subject(account, "INBOX", "message 1")
    patch = lambda body: client.patch(f"/api/email/messages/{first}", json=body, headers=owner.headers)  # noqa: E731
    assert patch({}).status_code == 422
    assert patch({"add_keywords": ["\\Deleted"]}).status_code == 422
    assert patch({"add_keywords": ["has space"]}).status_code == 422
    assert patch({"is_read": "yes"}).status_code == 422
    assert patch({"extra": 1}).status_code == 422
    post = lambda body: client.post("/api/email/flags", json=body, headers=owner.headers)  # noqa: E731
    assert post({"email_ids": [first], "add": ["\\Deleted"]}).status_code == 422
    assert post({"email_ids": [first], "add": ["x"], "remove": ["X"]}).status_code == 422
    assert post({"email_ids": [first]}).status_code == 422
    assert post({"email_ids": [first, "nope"], "add": ["\\Seen"]}).status_code == 404
    assert actions(account) == []


def test_write_backs_that_run_out_of_order_leave_the_later_state(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    account = seeded_account(owner, new_user(dovecot_factory()), inbox=1)
    (first,) = ids_by_subject(account, "INBOX", "message 1")
    url = f"/api/email/messages/{first}"
    read = client.patch(url, json={"is_read": True}, headers=owner.headers).get_json()["taskId"]
    read_batch = latest_batch(account)
    unread = client.patch(url, json={"is_read": False}, headers=owner.headers).get_json()["taskId"]
    run_task(account, unread).get()
    run_task(account, read, read_batch).get()  # the older request's task comes last
    assert server_flags(account.user)["message 1"] == set()
    sync(account)
    assert [m.is_read for m in rows_in(account, "INBOX")] == [False]
