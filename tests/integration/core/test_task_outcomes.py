"""A finished task's outcome is on its TaskRecord: the task API tells the truth once Redis forgot it.

The tasks run eagerly here (Celery's own tracer, so its task_success / task_failure signals fire as
in a worker); eager runs store nothing in the result backend, which is exactly what an expired
result looks like to the API. tests/e2e/test_task_outcome_worker.py does the same through a worker.
"""

from __future__ import annotations

from typing import Any

from email_service.core.db import session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.core.tasking.records import record_task
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller
from tests.integration.sync.sync_support import SyncAccount, make_account, message
from tests.servers.dovecot_fixtures import ImapUser


def _run_recorded_sync(account: SyncAccount) -> str:
    account_id, tenant_id, user_id = account.ids
    with session_scope(tenant_id) as session:
        task_id = record_task(session, tenant_id, user_id, "sync_emails", account_id=account_id).task_id
    kwargs = {"email_client_id": account_id, "tenant_id": tenant_id, "user_id": user_id}
    sync_emails.apply(kwargs=kwargs, task_id=task_id)
    return task_id


def _record(caller: Caller, task_id: str) -> TaskRecord:
    with session_scope(caller.tenant_id) as session:
        record = session.get(TaskRecord, task_id)
        assert record is not None
        session.expunge(record)
        return record


def test_a_finished_sync_reads_success_without_its_backend_result(
    client: Any, owner: Caller, imap_user: ImapUser
) -> None:
    imap_user.server.append(imap_user.username, "INBOX", [message(1), message(2)])
    task_id = _run_recorded_sync(make_account(owner, imap_user))

    record = _record(owner, task_id)
    assert record.status == "success" and record.finished_at is not None
    assert record.finished_at.tzinfo is not None and record.error is None
    status = client.get(f"/api/tasks/{task_id}", headers=owner.headers).get_json()
    assert status["status"] == "success", status
    assert status["result"]["status"] == "success" and status["result"]["messages_synced"] == 2
    assert status["error"] is None and status["progress"] is None
    [listed] = client.get("/api/tasks", headers=owner.headers).get_json()["items"]
    assert listed["taskId"] == task_id and listed["status"] == "success"
    assert listed["result"]["messages_synced"] == 2


def test_a_failed_sync_reads_failed_with_its_error(client: Any, owner: Caller, imap_user: ImapUser) -> None:
    task_id = _run_recorded_sync(make_account(owner, imap_user, password="wrong-password"))

    status = client.get(f"/api/tasks/{task_id}", headers=owner.headers).get_json()
    assert status["status"] == "failed", status
    assert status["error"]["type"] == "SyncAuthError" and status["result"] is None
    assert "wrong-password" not in str(status)
    [listed] = client.get("/api/tasks", headers=owner.headers).get_json()["items"]
    assert listed["status"] == "failed" and listed["error"] == status["error"]


def test_an_unfinished_task_still_reads_the_result_backend(client: Any, owner: Caller) -> None:
    with session_scope(owner.tenant_id) as session:
        task_id = record_task(session, owner.tenant_id, owner.user_id, "sync_emails").task_id
    assert _record(owner, task_id).status is None
    status = client.get(f"/api/tasks/{task_id}", headers=owner.headers).get_json()
    assert status["status"] == "pending" and status["result"] is None
