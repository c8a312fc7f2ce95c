"""A real worker records each task's outcome: the API still answers once the result has expired.

Deleting the result key is what Redis does after result_expires (1 h); before the outcome was
recorded, the task then read "pending" and the task list showed finished work as pending.
"""

from __future__ import annotations

import redis

from email_service.core.db import session_scope
from email_service.core.model_base import new_id
from email_service.core.tasking.model import TaskRecord
from email_service.core.tasking.records import record_task
from email_service.core.tasking.start import publish_task
from email_service.tasks.celery_app import celery_app
from tests.conftest import ServerSet, make_caller
from tests.e2e.http import call, poll_task
from tests.integration.sync.sync_support import message
from tests.reliability.waits import wait_for
from tests.servers.dovecot_fixtures import ImapUser


def _expire_result(servers: ServerSet, task_id: str) -> int:
    backend = celery_app.backend
    key = backend.get_key_for_task(task_id)
    client = redis.Redis.from_url(str(celery_app.conf.result_backend or servers.redis_url))
    return int(client.delete(key))  # a task revoked before it ran may never have had one


def test_finished_tasks_tell_the_truth_after_their_results_expire(
    api_url: str, worker: object, clean_db: ServerSet, imap_user: ImapUser
) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(3)])
    owner = make_caller()
    status, good = call("POST", f"{api_url}/api/accounts", owner.token, imap_user.account_data())
    assert status == 201, good
    bad_data = imap_user.account_data(password="wrong-password")
    status, bad = call("POST", f"{api_url}/api/accounts", owner.token, bad_data)
    assert status == 201, bad
    ids = {}
    for name, account in (("good", good), ("bad", bad)):
        status, started = call(
            "POST", f"{api_url}/api/email/sync", owner.token, {"email_client_id": account["id"]}
        )
        assert status == 202, started
        ids[name] = started["taskId"]
        poll_task(api_url, owner.token, ids[name])
        assert _expire_result(clean_db, ids[name]) == 1

    status, done = call("GET", f"{api_url}/api/tasks/{ids['good']}", owner.token)
    assert status == 200 and done["status"] == "success", done
    assert done["result"]["messages_synced"] == 3 and done["error"] is None
    status, failed = call("GET", f"{api_url}/api/tasks/{ids['bad']}", owner.token)
    assert failed["status"] == "failed" and failed["error"]["type"] == "SyncAuthError", failed
    status, listed = call("GET", f"{api_url}/api/tasks", owner.token)
    assert {t["taskId"]: t["status"] for t in listed["items"]} == {
        ids["good"]: "success",
        ids["bad"]: "failed",
    }


def test_a_task_revoked_before_it_runs_reads_revoked_after_expiry(
    api_url: str, worker: object, clean_db: ServerSet
) -> None:
    """The worker's main process announces the revoke (task_revoked) when the task's time comes."""
    owner = make_caller()
    with session_scope(owner.tenant_id) as session:
        task_id = record_task(session, owner.tenant_id, owner.user_id, "check_spam").task_id
    kwargs = {"email_id": new_id()}
    publish_task("check_spam", task_id, owner.tenant_id, owner.user_id, kwargs, countdown=3)

    status, _ = call("DELETE", f"{api_url}/api/tasks/{task_id}", owner.token)
    assert status == 202
    wait_for(lambda: _record_status(owner.tenant_id, task_id), 30, "the revoke to be recorded")
    _expire_result(clean_db, task_id)

    status, body = call("GET", f"{api_url}/api/tasks/{task_id}", owner.token)
    assert status == 200 and body["status"] == "revoked", body
    assert body["error"]["type"] == "Revoked"


def _record_status(tenant_id: str, task_id: str) -> str | None:
    with session_scope(tenant_id) as session:
        record = session.get(TaskRecord, task_id)
        return record.status if record is not None else None
