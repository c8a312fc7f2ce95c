"""POST /api/email/sync and the task status API, with a real Redis broker (no worker here)."""

from __future__ import annotations

import os

import redis
from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.core.tasking.records import forget_task, record_task
from email_service.core.tasking.status import get_queue_stats
from tests.conftest import Caller, apply_environment
from tests.integration.accounts.test_accounts_api import create
from tests.integration.core.queue_support import queue_list


def _queued_messages(servers, queue: str) -> list[bytes]:
    return list(redis.Redis.from_url(servers.redis_url).lrange(queue_list(queue), 0, -1))


def test_sync_is_recorded_then_published(client, owner: Caller, clean_db) -> None:
    redis.Redis.from_url(clean_db.redis_url).delete("sync")
    account = create(client, owner)
    response = client.post("/api/email/sync", json={"email_client_id": account["id"]}, headers=owner.headers)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending"
    with session_scope(owner.tenant_id) as session:
        record = session.get(TaskRecord, body["taskId"])
        assert record is not None and record.kind == "sync_emails" and record.user_id == owner.user_id
    queued = _queued_messages(clean_db, "sync")
    assert len(queued) == 1 and body["taskId"].encode() in queued[0]
    assert owner.tenant_id.encode() in queued[0]  # tenant travels in the message (kwargs and headers)
    assert get_queue_stats()["sync"] == 1

    status = client.get(f"/api/tasks/{body['taskId']}", headers=owner.headers).get_json()
    assert status == {**status, "taskId": body["taskId"], "status": "pending", "result": None, "error": None}
    listed = client.get("/api/tasks", headers=owner.headers).get_json()["items"]
    assert [t["taskId"] for t in listed] == [body["taskId"]]
    revoke = client.delete(f"/api/tasks/{body['taskId']}", headers=owner.headers)
    assert revoke.status_code == 202


def test_sync_of_unknown_account_or_folder_is_404(client, owner: Caller) -> None:
    missing = client.post("/api/email/sync", json={"email_client_id": "nope"}, headers=owner.headers)
    assert missing.status_code == 404
    account = create(client, owner)
    folder = client.post(
        "/api/email/sync", json={"email_client_id": account["id"], "folder_id": "nope"}, headers=owner.headers
    )
    assert folder.status_code == 404


def test_broker_outage_is_503_and_leaves_no_record(client, owner: Caller, clean_db) -> None:
    account = create(client, owner)
    os.environ["REDIS_URL"] = "redis://127.0.0.1:1/0"
    apply_environment()
    try:
        response = client.post(
            "/api/email/sync", json={"email_client_id": account["id"]}, headers=owner.headers
        )
    finally:
        os.environ["REDIS_URL"] = clean_db.redis_url
        apply_environment()
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
    with session_scope(owner.tenant_id) as session:
        assert session.scalars(select(TaskRecord)).all() == []


def test_a_remembered_owner_check_serves_only_that_owner(
    client, owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller
) -> None:
    with session_scope(owner.tenant_id) as session:
        task_id = record_task(session, owner.tenant_id, owner.user_id, "sync_emails").task_id
    for _ in range(2):  # the second poll is answered from the remembered ownership
        assert client.get(f"/api/tasks/{task_id}", headers=owner.headers).status_code == 200
    for stranger in (same_tenant_other_user, other_tenant):
        assert client.get(f"/api/tasks/{task_id}", headers=stranger.headers).status_code == 404
    with session_scope(owner.tenant_id) as session:
        forget_task(session, task_id)
    assert client.get(f"/api/tasks/{task_id}", headers=owner.headers).status_code == 404


def test_list_limits_must_be_ascii_integers_in_range(client, owner: Caller) -> None:
    for path in ("/api/tasks", "/api/email/outbox", "/api/email/messages"):
        for bad in ("0", "201", "ten", "-1", "²", "٣"):  # isdigit() alone admits the last two
            response = client.get(path, query_string={"limit": bad}, headers=owner.headers)
            assert response.status_code == 400, (path, bad, response.get_json())
            assert response.get_json()["error"]["details"]["field"] == "limit"
        assert client.get(path, query_string={"limit": "5"}, headers=owner.headers).status_code == 200
