"""Folder create / rename / delete against real Dovecot: the folder list changes at once, a sync before the
task keeps it so, the server is checked on its own connection, and a refused command reverts."""

from __future__ import annotations

from typing import Any

from tests.conftest import Caller
from tests.integration.deletion.delete_support import rows_in, seeded_account, server_subjects, sync
from tests.integration.messages.actions_support import (
    actions,
    on_server,
    run_task,
    server_folders,
    task_status,
)
from tests.integration.sync.sync_support import SyncAccount, message
from tests.servers.dovecot_fixtures import DovecotFactory, new_user


def folders(client: Any, account: SyncAccount) -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/accounts/{account.account_id}/folders", headers=account.caller.headers)
    assert response.status_code == 200, response.get_json()
    return {f["path"]: f for f in response.get_json()["items"]}


def base(account: SyncAccount) -> str:
    return f"/api/accounts/{account.account_id}/folders"


def accepted(response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.get_json()
    return dict(response.get_json())


def test_create_rename_delete_round_trip(client: Any, owner: Caller, dovecot_factory: DovecotFactory) -> None:
    account = seeded_account(owner, new_user(dovecot_factory()), inbox=1)
    headers = owner.headers
    top = accepted(client.post(base(account), json={"name": "Projects"}, headers=headers))
    assert folders(client, account)["Projects"]["name"] == "Projects"
    sync(account)  # before the server has it: the folder stays listed
    assert "Projects" in folders(client, account)
    result = run_task(account, top["taskId"]).get()
    assert result["status"] == "success" and result["folder_id"] == top["folder_id"]
    assert "Projects" in server_folders(account.user)

    child_body = {"name": "2024", "parent_id": top["folder_id"]}
    child = accepted(client.post(base(account), json=child_body, headers=headers))
    listed = folders(client, account)
    delimiter = listed["Projects"]["delimiter"]
    assert delimiter  # the server's, learnt by the sync
    path = f"Projects{delimiter}2024"
    assert listed[path]["name"] == "2024" and listed[path]["id"] == child["folder_id"]
    run_task(account, child["taskId"]).get()
    assert path in server_folders(account.user)
    on_server(account.user, "append", path, message(7, "filed"))
    sync(account)
    assert [m.subject for m in rows_in(account, path)] == ["filed"]

    renamed = accepted(
        client.patch(f"{base(account)}/{top['folder_id']}", json={"name": "Clients"}, headers=headers)
    )
    new_path = f"Clients{delimiter}2024"
    listed = folders(client, account)
    assert {"Clients", new_path} <= set(listed) and "Projects" not in listed
    assert listed[new_path]["id"] == child["folder_id"]
    sync(account)  # the server still has the old names: no folder comes back under them
    assert {"Projects", path}.isdisjoint(folders(client, account))
    assert run_task(account, renamed["taskId"]).get()["folder_id"] == top["folder_id"]
    on_server_now = server_folders(account.user)
    assert {"Clients", new_path} <= on_server_now and "Projects" not in on_server_now
    sync(account)
    assert [m.subject for m in rows_in(account, new_path)] == ["filed"]
    assert folders(client, account)[new_path]["id"] == child["folder_id"]  # the same row, messages kept

    gone = accepted(client.delete(f"{base(account)}/{top['folder_id']}", headers=headers))
    assert "Clients" not in folders(client, account) and new_path not in folders(client, account)
    sync(account)
    assert "Clients" not in folders(client, account)
    assert run_task(account, gone["taskId"]).get()["status"] == "success"
    assert {"Clients", new_path}.isdisjoint(server_folders(account.user))
    assert rows_in(account, new_path) == []
    sync(account)
    assert "Clients" not in folders(client, account)
    assert task_status(client, account, gone["taskId"])["result"]["folder_id"] == top["folder_id"]
    assert {a.state for a in actions(account)} == {"done"}


def test_a_rename_of_a_folder_deleted_behind_our_back_reverts(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    user = new_user(dovecot_factory())
    user.server.seed_maildir(user.username, "Work", [message(1, "in work")])
    account = seeded_account(owner, user, inbox=1)
    work = folders(client, account)["Work"]["id"]
    renamed = accepted(client.patch(f"{base(account)}/{work}", json={"name": "Job"}, headers=owner.headers))
    assert "Job" in folders(client, account)
    on_server(user, "delete_folder", "Work")

    assert run_task(account, renamed["taskId"]).state == "FAILURE"
    status = task_status(client, account, renamed["taskId"])
    assert status["status"] == "failed" and status["error"]["message"]
    listed = folders(client, account)
    assert listed["Work"]["id"] == work and "Job" not in listed
    (action,) = actions(account)
    assert action.state == "failed" and action.reason


def test_a_create_the_server_refuses_is_taken_back(
    client: Any, owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    user = new_user(dovecot_factory())
    account = seeded_account(owner, user, inbox=1)
    inbox = folders(client, account)["INBOX"]
    assert client.delete(f"{base(account)}/{inbox['id']}", headers=owner.headers).status_code == 409
    bad = accepted(client.post(base(account), json={"name": "bad/name"}, headers=owner.headers))
    assert "bad/name" in folders(client, account)
    run = run_task(account, bad["taskId"])
    assert run.state == "FAILURE", run.result
    assert "bad/name" not in folders(client, account)
    status = task_status(client, account, bad["taskId"])
    assert status["status"] == "failed" and status["error"]["message"]
    assert [(a.state, bool(a.reason)) for a in actions(account)] == [("failed", True)]
    assert server_subjects(user, "INBOX") == ["message 1"]
