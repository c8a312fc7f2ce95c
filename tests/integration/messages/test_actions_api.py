"""The write-back routes on rows only (the tasks are queued, not run): tenancy, 409s, local changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.messages.actions.model import MessageAction
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from tests.conftest import Caller


def mailbox(caller: Caller) -> dict[str, str]:
    """An account with INBOX, Trash, Work, Work.Sub and Old (delimiter "."), two messages in INBOX."""
    owner = {"tenant_id": caller.tenant_id, "user_id": caller.user_id}
    with session_scope(caller.tenant_id) as session:
        account = EmailAccount(
            **owner, email_address="me@example.com", imap_host="h", smtp_host="h", username="me"
        )
        account.secret_ciphertext = "x"
        session.add(account)
        session.flush()
        folders = {
            name: Folder(**owner, account_id=account.id, name=name, role=role, delimiter=".", uidvalidity=7)
            for name, role in (
                ("INBOX", "inbox"),
                ("Trash", "trash"),
                ("Work", None),
                ("Work.Sub", None),
                ("Old", None),
            )
        }
        session.add_all(folders.values())
        session.flush()
        rows = [
            Message(
                **owner,
                account_id=account.id,
                folder_id=folders["INBOX"].id,
                uidvalidity=7,
                uid=i,
                date_sort=datetime.now(UTC),
            )
            for i in (1, 2)
        ]
        session.add_all(rows)
        session.flush()
        ids = {f"folder_{n.lower().replace('.', '_')}": f.id for n, f in folders.items()}
        return {"account": account.id, "message": rows[0].id, "other_message": rows[1].id, **ids}


ACTION_ROUTES = [
    ("patch", "/api/email/messages/{message}", {"is_read": True}),
    ("post", "/api/email/flags", {"email_ids": ["{message}"], "add": ["\\Flagged"]}),
    ("post", "/api/email/move", {"email_ids": ["{message}"], "folder_id": "{folder_work}"}),
    ("post", "/api/accounts/{account}/folders", {"name": "New"}),
    ("post", "/api/accounts/{account}/folders", {"name": "Child", "parent_id": "{folder_trash}"}),
    ("patch", "/api/accounts/{account}/folders/{folder_work}", {"name": "Renamed"}),
    ("delete", "/api/accounts/{account}/folders/{folder_old}", None),
]


def call(client: Any, caller: Caller, method: str, path: str, body: Any, ids: dict[str, str]) -> Any:
    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(**ids)
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    json = {k: fill(v) for k, v in body.items()} if body is not None else None
    return getattr(client, method)(path.format(**ids), json=json, headers=caller.headers)


def logged(caller: Caller) -> int:
    with session_scope(caller.tenant_id) as session:
        return len(list(session.scalars(select(MessageAction.id))))


def test_strangers_get_404_on_every_action_route(
    client: Any, owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller
) -> None:
    ids = mailbox(owner)
    theirs = {**mailbox(same_tenant_other_user), "message": ids["message"], "folder_work": ids["folder_work"]}
    theirs["folder_trash"] = ids["folder_trash"]
    for stranger in (same_tenant_other_user, other_tenant):
        for method, path, body in ACTION_ROUTES:
            response = call(client, stranger, method, path, body, ids)
            assert response.status_code == 404, (stranger, method, path, response.get_json())
            assert response.get_json()["error"]["code"] == "not_found"
    # Their own account, the owner's message or folder: still 404.
    for method, path, body in ACTION_ROUTES[1:3] + ACTION_ROUTES[4:5]:
        response = call(client, same_tenant_other_user, method, path, body, theirs)
        assert response.status_code == 404, (method, path, response.get_json())
    assert logged(owner) == 0
    for method, path, body in ACTION_ROUTES:
        response = call(client, owner, method, path, body, ids)
        assert response.status_code < 300, (method, path, response.get_json())
        assert response.get_json()["taskId"]
    task = response.get_json()["taskId"]
    for stranger in (same_tenant_other_user, other_tenant):
        assert client.get(f"/api/tasks/{task}", headers=stranger.headers).status_code == 404


@pytest.mark.parametrize("folder", ["folder_inbox", "folder_trash"])
def test_inbox_and_role_folders_cannot_be_renamed_or_deleted(client: Any, owner: Caller, folder: str) -> None:
    ids = mailbox(owner)
    path = f"/api/accounts/{ids['account']}/folders/{ids[folder]}"
    assert client.patch(path, json={"name": "X"}, headers=owner.headers).status_code == 409
    assert client.delete(path, headers=owner.headers).status_code == 409
    assert logged(owner) == 0


def folder_list(client: Any, caller: Caller, account: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/accounts/{account}/folders", headers=caller.headers)
    assert response.status_code == 200
    return {f["path"]: f for f in response.get_json()["items"]}


def test_folder_changes_show_in_the_list_at_once(client: Any, owner: Caller) -> None:
    ids = mailbox(owner)
    base = f"/api/accounts/{ids['account']}/folders"
    child = client.post(base, json={"name": "2024", "parent_id": ids["folder_old"]}, headers=owner.headers)
    assert child.status_code == 202 and child.get_json()["folder_id"]
    listed = folder_list(client, owner, ids["account"])
    assert listed["Old.2024"]["name"] == "2024" and listed["Old.2024"]["id"] == child.get_json()["folder_id"]
    again = client.post(base, json={"name": "2024", "parent_id": ids["folder_old"]}, headers=owner.headers)
    assert again.status_code == 409
    assert client.post(base, json={"name": "a.b"}, headers=owner.headers).status_code == 422
    assert client.post(base, json={"name": "inbox"}, headers=owner.headers).status_code == 409
    busy = client.delete(f"{base}/{ids['folder_old']}", headers=owner.headers)
    assert busy.status_code == 409  # its child's create is still pending

    renamed = client.patch(f"{base}/{ids['folder_work']}", json={"name": "Clients"}, headers=owner.headers)
    assert renamed.status_code == 202
    listed = folder_list(client, owner, ids["account"])
    assert listed["Clients"]["name"] == "Clients" and listed["Clients.Sub"]["name"] == "Sub"
    assert "Work" not in listed and "Work.Sub" not in listed

    gone = client.delete(f"{base}/{ids['folder_trash']}", headers=owner.headers)
    assert gone.status_code == 409
    gone = client.delete(
        f"{base}/{ids['folder_work_sub']}",
        headers=owner.headers,
    )
    assert gone.status_code == 409  # its parent's rename is pending


def test_move_shows_the_target_folder_at_once(client: Any, owner: Caller) -> None:
    ids = mailbox(owner)
    body = {"email_ids": [ids["message"]], "folder_id": ids["folder_work"]}
    assert client.post("/api/email/move", json=body, headers=owner.headers).status_code == 202
    params = {"account_id": ids["account"], "folder_id": ids["folder_work"]}
    items = client.get("/api/email/messages", query_string=params, headers=owner.headers).get_json()["items"]
    assert [i["id"] for i in items] == [ids["message"]]
    assert (
        client.post("/api/email/move", json=body, headers=owner.headers).status_code == 409
    )  # still pending
    assert folder_list(client, owner, ids["account"])["INBOX"]["total_count"] == 1
