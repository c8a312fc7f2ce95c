"""Redis (broker and results) restarted on the same port: while it is down the API answers 503 with
the JSON error body, never 500; once it is back the worker reconnects and a new sync runs exactly."""

from __future__ import annotations

from typing import Any

from email_service.tasks.helpers import get_task_status
from tests.conftest import Caller
from tests.integration.sync_support import imap, make_account, message, uids
from tests.reliability.conftest import WorkerFactory
from tests.reliability.imap_support import server_uids
from tests.reliability.scoreboard import ScenarioCount
from tests.reliability.waits import wait_task
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.redis_server import RedisServer


def start_sync(client: Any, owner: Caller, account_id: str) -> Any:
    return client.post("/api/email/sync", json={"email_client_id": account_id}, headers=owner.headers)


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "service_unavailable"


def test_redis_restart_api_answers_503_then_tasks_resume(
    app: Any,
    owner: Caller,
    imap_user: ImapUser,
    private_broker: RedisServer,
    spawn_worker: WorkerFactory,
    scenario: ScenarioCount,
) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(20)])
    account = make_account(owner, imap_user)
    worker = spawn_worker("sync")
    client = app.test_client()
    first = start_sync(client, owner, account.account_id)
    assert first.status_code == 202
    first_id = first.get_json()["taskId"]
    assert wait_task(first_id)["status"] == "success"

    private_broker.stop()
    down_sync = start_sync(client, owner, account.account_id)
    down_status = client.get(f"/api/tasks/{first_id}", headers=owner.headers)
    with imap(imap_user) as server:  # mail keeps arriving during the outage
        for i in range(20, 30):
            server.append("INBOX", message(i))
    private_broker.start()

    up_status = client.get(f"/api/tasks/{first_id}", headers=owner.headers)
    again = start_sync(client, owner, account.account_id)
    final = wait_task(again.get_json()["taskId"]) if again.status_code == 202 else {}
    stored = uids(account)
    scenario.compare("INBOX messages", server_uids(imap_user), stored)
    assert_unavailable(down_sync)
    assert_unavailable(down_status)
    assert up_status.status_code == 200  # results did not survive (no persistence): pending, not 500
    assert again.status_code == 202, again.get_data(as_text=True)
    assert final["status"] == "success", (final, worker.tail())
    assert final["result"]["messages_synced"] == 10
    assert stored == server_uids(imap_user) and len(stored) == len(set(stored)) == 30
    assert get_task_status(first_id)["status"] == "pending"
