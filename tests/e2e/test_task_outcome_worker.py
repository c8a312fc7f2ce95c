"""A real worker records each task's outcome: the API still answers once the result has expired.

Deleting the result key is what Redis does after result_expires (1 h); before the outcome was
recorded, the task then read "pending" and the task list showed finished work as pending.
"""

from __future__ import annotations

import redis

from email_service.tasks.celery_app import celery_app
from tests.conftest import ServerSet, make_caller
from tests.e2e.http import call, poll_task
from tests.integration.sync_support import message
from tests.servers.dovecot_fixtures import ImapUser


def _expire_result(servers: ServerSet, task_id: str) -> None:
    backend = celery_app.backend
    key = backend.get_key_for_task(task_id)
    client = redis.Redis.from_url(str(celery_app.conf.result_backend or servers.redis_url))
    assert client.delete(key) == 1


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
        _expire_result(clean_db, ids[name])

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
