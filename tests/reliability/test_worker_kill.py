"""A worker pool process killed with SIGKILL mid-task: acks_late + task_reject_on_worker_lost put the
message back at once, the replacement process runs it again, and nothing is lost or done twice."""

from __future__ import annotations

import time
from typing import Any

import pytest

from email_service.core.model_base import new_id
from email_service.core.tasking.start import publish_task
from tests.conftest import Caller
from tests.integration.sending.send_support import (
    make_send_account,
    outbox_row,
    post_send,
)
from tests.integration.sync.sync_support import imap, make_account, message, uids
from tests.reliability.conftest import ProxyFactory, WorkerFactory
from tests.reliability.imap_support import copies_of, server_uids
from tests.reliability.scoreboard import ScenarioCount
from tests.reliability.waits import wait_for, wait_task
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer

LINE = "Killed workers must not lose or duplicate mail; this line pads the body.\r\n"


def test_sigkill_mid_sync_is_redelivered_and_completes_exactly(
    owner: Caller,
    imap_user: ImapUser,
    tcp_proxy: ProxyFactory,
    spawn_worker: WorkerFactory,
    scenario: ScenarioCount,
) -> None:
    total = 400  # ~4.5 KB each through a 150 KB/s proxy: the FETCH takes ~12 s unless healed
    imap_user.server.seed_maildir(
        imap_user.username, "INBOX", [message(i, body=LINE * 60) for i in range(total)]
    )
    proxy = tcp_proxy(imap_user.port)
    proxy.slow(150_000)
    account = make_account(owner, imap_user, port=proxy.port)
    worker = spawn_worker("sync", SYNC_BATCH_SIZE="50")
    task_id = publish_task(
        "sync_emails",
        new_id(),
        owner.tenant_id,
        owner.user_id,
        {"email_client_id": account.account_id},
    )
    partial = wait_for(lambda: len(uids(account)), 60, "a first batch to be committed")
    killed = worker.kill_child()
    proxy.heal()
    replacement = worker.wait_new_child(killed)
    status = wait_task(task_id)

    stored = uids(account)
    scenario.compare("INBOX messages", server_uids(imap_user), stored)
    assert status["status"] == "success", (status, worker.tail())
    assert status["result"]["status"] == "success", status  # not "already_running" on its own lock
    assert 0 < partial < total and replacement != killed
    assert stored == server_uids(imap_user) and len(stored) == len(set(stored)) == total
    assert proxy.counters.connections == 2  # the killed run and the redelivered one
    assert b"WorkerLostError" in worker.log.read_bytes() or b"SIGKILL" in worker.log.read_bytes()


KILL_POINTS = ["before_data", "after_data", "after_data_provider_copy"]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_mid_send_is_redelivered_and_never_sent_twice(
    app: Any,
    owner: Caller,
    smtp: SmtpTestServer,
    imap_user: ImapUser,
    spawn_worker: WorkerFactory,
    scenario: ScenarioCount,
    point: str,
) -> None:
    account = make_send_account(owner, smtp, imap_user)
    worker = spawn_worker("send")
    smtp.script_reply("MAIL" if point == "before_data" else "DATA", None, stall=120)
    response = post_send(app.test_client(), account, subject=f"killed {point}")
    assert response.status_code == 202, response.get_json()
    task_id = response.get_json()["taskId"]

    def stalled() -> bool:
        if point == "before_data":
            return outbox_row(owner, task_id).status == "sending" and smtp.connections > 0
        return len(smtp.messages) == 1

    wait_for(stalled, 60, f"the send to stall {point}")
    if point == "before_data":
        time.sleep(1)  # past EHLO/STARTTLS/AUTH: now inside MAIL, which the server holds
    if point == "after_data_provider_copy":  # a provider that files sent mail itself (as Gmail does)
        with imap(imap_user) as client:
            client.append("Sent", smtp.messages[0].data, flags=["\\Seen"])
    killed = worker.kill_child()
    worker.wait_new_child(killed)
    status = wait_task(task_id)

    row = outbox_row(owner, task_id)
    copies = copies_of(imap_user, "Sent", row.message_id_header or "")
    delivered = len(smtp.messages)
    scenario.deliveries("SMTP", delivered, at_least=0 if point == "before_data" else 1)
    scenario.deliveries("Sent copy", copies)
    assert status["status"] == "success", (status, worker.tail())
    expected = "sent" if point == "after_data_provider_copy" else "uncertain"
    assert row.status == status["result"]["status"] == expected, status
    assert delivered == (0 if point == "before_data" else 1)
    assert copies == (1 if point == "after_data_provider_copy" else 0)
