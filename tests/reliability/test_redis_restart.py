"""Redis (broker and results) restarted on the same port while a sync is running: the API answers 503
with the JSON error body, never 500; the running sync carries on through the outage; once Redis is
back the worker reconnects, the sync's result is stored and a new sync mirrors the mailbox exactly."""

from __future__ import annotations

from typing import Any

from tests.conftest import Caller
from tests.integration.sync.sync_support import imap, make_account, message, uids
from tests.reliability.conftest import ProxyFactory, WorkerFactory
from tests.reliability.imap_support import server_uids
from tests.reliability.scoreboard import ScenarioCount
from tests.reliability.waits import wait_for, wait_task
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.redis_server import RedisServer

LINE = "Redis went away and came back; the sync must not notice more than it has to.\r\n"
BATCH = 50


def start_sync(client: Any, owner: Caller, account_id: str) -> Any:
    return client.post("/api/email/sync", json={"email_client_id": account_id}, headers=owner.headers)


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "service_unavailable"


def test_redis_restart_mid_sync_api_answers_503_then_tasks_resume(
    app: Any,
    owner: Caller,
    imap_user: ImapUser,
    tcp_proxy: ProxyFactory,
    private_broker: RedisServer,
    spawn_worker: WorkerFactory,
    scenario: ScenarioCount,
) -> None:
    total = 400  # ~4.5 KB each through 150 KB/s: a batch of 50 commits every ~1.5 s
    imap_user.server.seed_maildir(
        imap_user.username, "INBOX", [message(i, body=LINE * 60) for i in range(total)]
    )
    proxy = tcp_proxy(imap_user.port)
    proxy.slow(150_000)
    account = make_account(owner, imap_user, port=proxy.port)
    worker = spawn_worker("sync", SYNC_BATCH_SIZE=str(BATCH))
    client = app.test_client()
    first = start_sync(client, owner, account.account_id)
    assert first.status_code == 202
    first_id = first.get_json()["taskId"]
    wait_for(lambda: len(uids(account)) >= BATCH, 60, "the sync to be under way")

    private_broker.stop()
    at_stop = len(uids(account))
    down_sync = start_sync(client, owner, account.account_id)
    down_status = client.get(f"/api/tasks/{first_id}", headers=owner.headers)
    with imap(imap_user) as server:  # mail keeps arriving during the outage
        for i in range(total, total + 10):
            server.append("INBOX", message(i))
    # Two more commits while Redis is down: the progress report between them met the outage.
    wait_for(lambda: len(uids(account)) >= at_stop + 2 * BATCH, 60, "the sync to go on during the outage")
    private_broker.start()
    proxy.heal()

    finished = wait_task(first_id)
    again = start_sync(client, owner, account.account_id)
    final = wait_task(again.get_json()["taskId"]) if again.status_code == 202 else {}
    stored = uids(account)
    scenario.compare("INBOX messages", server_uids(imap_user), stored)
    assert_unavailable(down_sync)
    assert_unavailable(down_status)
    assert finished["status"] == "success" and finished["result"]["status"] == "success", worker.tail()
    assert again.status_code == 202, again.get_data(as_text=True)
    assert final["status"] == "success", (final, worker.tail())
    assert stored == server_uids(imap_user) and len(stored) == len(set(stored)) == total + 10
