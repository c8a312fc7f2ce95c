"""POST /api/email/delete and /restore on real PostgreSQL and Redis: validation, hide at once, tenancy."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from tests.conftest import Caller, apply_environment


def make_messages(caller: Caller, count: int = 2) -> list[str]:
    """Rows only: the endpoints never talk IMAP, the task does (tested against Dovecot elsewhere)."""
    owner = {"tenant_id": caller.tenant_id, "user_id": caller.user_id}
    with session_scope(caller.tenant_id) as session:
        account = EmailAccount(
            **owner, email_address="me@example.com", imap_host="h", smtp_host="h", username="me"
        )
        account.secret_ciphertext = "x"
        session.add(account)
        session.flush()
        inbox = Folder(**owner, account_id=account.id, name="INBOX", role="inbox")
        session.add(inbox)
        session.flush()
        rows = [
            Message(
                **owner,
                account_id=account.id,
                folder_id=inbox.id,
                uidvalidity=1,
                uid=i,
                date_sort=datetime.now(UTC),
            )
            for i in range(1, count + 1)
        ]
        session.add_all(rows)
        session.flush()
        return [m.id for m in rows]


def hidden(caller: Caller, ids: list[str]) -> list[bool]:
    with session_scope(caller.tenant_id) as session:
        found = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))}
        return [found[i].deleted_at is not None for i in ids]


def post(client: Any, caller: Caller, path: str, body: Any) -> Any:
    return client.post(f"/api/email/{path}", json=body, headers=caller.headers)


def field_errors(response: Any) -> list[str]:
    return [f["field"] for f in response.get_json()["error"]["details"]["fields"]]


@pytest.mark.parametrize("path", ["delete", "restore"])
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email_ids": []}, "email_ids"),
        ({"email_ids": [f"id-{i}" for i in range(1001)]}, "email_ids"),
        ({"email_ids": [1, 2]}, "email_ids.0"),
        ({"email_ids": ["ok", None]}, "email_ids.1"),
        ({"email_ids": [""]}, "email_ids.0"),
        ({"email_ids": "abc"}, "email_ids"),
        ({}, "email_ids"),
        ({"email_ids": ["a"], "extra": 1}, "extra"),
    ],
)
def test_validation_names_the_field(client: Any, owner: Caller, path: str, body: Any, field: str) -> None:
    response = post(client, owner, path, body)
    assert response.status_code == 422
    assert field in field_errors(response)


def test_bad_bodies(client: Any, owner: Caller) -> None:
    assert post(client, owner, "delete", {"email_ids": ["a"], "permanent": "yes"}).status_code == 422
    assert client.post("/api/email/delete", data="[]", headers=owner.headers).status_code == 400
    assert client.post("/api/email/delete", json={"email_ids": ["a"]}).status_code == 401
    assert post(client, owner, "delete", {"email_ids": [f"id-{i}" for i in range(1000)]}).status_code == 202


def test_delete_hides_at_once_and_records_the_task(client: Any, owner: Caller) -> None:
    ids = make_messages(owner, 3)
    response = post(client, owner, "delete", {"email_ids": ids[:2], "permanent": False})
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending" and body["taskId"]
    assert hidden(owner, ids) == [True, True, False]
    with session_scope(owner.tenant_id) as session:
        record = session.get(TaskRecord, body["taskId"])
        assert record is not None and record.kind == "delete_emails"
        folder = session.scalars(select(Folder)).one()
        assert folder.total_count == 1
    task = client.get(f"/api/tasks/{body['taskId']}", headers=owner.headers)
    assert task.status_code == 200
    restore = post(client, owner, "restore", {"email_ids": ids[:2]})
    assert restore.status_code == 202 and restore.get_json()["taskId"] != body["taskId"]


def test_strangers_cannot_hide_or_see_the_task(
    client: Any, owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller
) -> None:
    ids = make_messages(owner)
    mine = post(client, owner, "restore", {"email_ids": ids}).get_json()["taskId"]
    for stranger in (same_tenant_other_user, other_tenant):
        for path, extra in (("delete", {"permanent": True}), ("delete", {}), ("restore", {})):
            response = post(client, stranger, path, {"email_ids": ids, **extra})
            assert response.status_code == 202  # same answer as for unknown ids: nothing leaks
        assert hidden(owner, ids) == [False, False]
        assert client.get(f"/api/tasks/{mine}", headers=stranger.headers).status_code == 404


def test_broker_outage_is_503_and_shows_the_messages_again(client: Any, owner: Caller, clean_db: Any) -> None:
    ids = make_messages(owner)
    os.environ["REDIS_URL"] = "redis://127.0.0.1:1/0"
    apply_environment()
    try:
        response = post(client, owner, "delete", {"email_ids": ids})
    finally:
        os.environ["REDIS_URL"] = clean_db.redis_url
        apply_environment()
    assert response.status_code == 503
    assert hidden(owner, ids) == [False, False]
    with session_scope(owner.tenant_id) as session:
        assert session.scalars(select(TaskRecord)).all() == []
    # The feed told of the delete at once; the undo must tell that they are back.
    feed = client.get("/api/changes?since=0", headers=owner.headers).get_json()["changes"]
    told = [(c["type"], c["object_id"]) for c in feed if c["type"].startswith("message.")]
    assert sorted(told[: len(ids)]) == sorted(("message.deleted", i) for i in ids)
    assert sorted(told[len(ids) :]) == sorted(("message.created", i) for i in ids)
