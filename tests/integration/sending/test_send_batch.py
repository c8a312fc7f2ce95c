"""The account's outbox drainer on the real database and the SMTP test server: one task run sends the
account's queued rows, each other task answers its own stored result, per-row outcomes stay per row,
and a task that finds the drainer running waits for it."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from email_service.core.db import session_scope
from email_service.sending.account_lock import account_send_lock
from email_service.sending.model import OutboxMessage
from email_service.sending.service import SendJob, finish_row
from tests.conftest import Caller, ServerSet
from tests.integration.sending.send_support import (
    SendAccount,
    claim,
    make_send_account,
    outbox_row,
    parse,
    post_send,
    run_task,
)
from tests.servers.smtp_server import SmtpTestServer
from tests.servers.sqlite_db import SqliteDatabase

CAROL = "carol@example.test"


@pytest.fixture
def account(owner: Caller, smtp: SmtpTestServer) -> SendAccount:
    return make_send_account(owner, smtp, provider_saves_sent=True)


def queue(client: Any, account: SendAccount, **fields: Any) -> str:
    response = post_send(client, account, **fields)
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["taskId"])


def delivered_ids(smtp: SmtpTestServer) -> list[str]:
    return [str(parse(m.data)["Message-ID"]) for m in smtp.messages]


def test_one_run_sends_the_queue_and_each_sibling_answers_its_own_result(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    ids = [queue(client, account, subject=f"batch {i}") for i in range(6)]
    first = run_task(account, ids[2]).result
    assert first["status"] == "sent" and len(smtp.messages) == 6 and smtp.connections == 1
    rows = {i: outbox_row(account.caller, i) for i in ids}
    assert {(r.status, r.attempts) for r in rows.values()} == {("sent", 1)}
    assert sorted(delivered_ids(smtp)) == sorted(r.message_id_header or "" for r in rows.values())
    for outbox_id in ids[:2] + ids[3:]:  # a poller sees each sibling's outcome before its task runs
        polled = client.get(f"/api/tasks/{outbox_id}", headers=account.caller.headers).get_json()
        assert polled["status"] == "success", polled
        assert polled["result"]["message_id"] == rows[outbox_id].message_id_header
    for outbox_id in ids:
        result = run_task(account, outbox_id)
        assert result.successful(), result.traceback
        assert result.result["status"] == "sent"
        assert result.result["message_id"] == rows[outbox_id].message_id_header
    assert len(smtp.messages) == 6 and smtp.connections == 1


def test_a_refused_recipient_fails_only_its_row_and_its_task(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    ids = [queue(client, account, subject="ok 0")]
    ids.append(queue(client, account, to=[CAROL], subject="refused"))
    ids.append(queue(client, account, subject="ok 2"))
    smtp.script_reply("RCPT", "550 5.1.1 no such user", rcpt=CAROL)
    assert run_task(account, ids[0]).result["status"] == "sent"
    assert [outbox_row(account.caller, i).status for i in ids] == ["sent", "failed", "sent"]
    failed = outbox_row(account.caller, ids[1])
    assert failed.result is not None and failed.result["refused"][CAROL]["code"] == 550
    result = run_task(account, ids[1])
    assert result.failed() and type(result.result).__name__ == "SendFailed"
    assert result.result.result["refused"][CAROL]["code"] == 550
    assert len(smtp.messages) == 2 and run_task(account, ids[2]).result["status"] == "sent"


def test_a_row_cancelled_while_queued_is_left_out_of_the_batch(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    ids = [queue(client, account, subject=f"batch {i}") for i in range(3)]
    assert client.delete(f"/api/email/outbox/{ids[1]}", headers=account.caller.headers).status_code == 200
    assert run_task(account, ids[0]).result["status"] == "sent"
    assert [outbox_row(account.caller, i).status for i in ids] == ["sent", "cancelled", "sent"]
    assert run_task(account, ids[1]).result["status"] == "cancelled"
    assert len(smtp.messages) == 2


def test_a_transient_error_mid_batch_puts_the_rest_back_for_their_own_tasks(
    client: Any, account: SendAccount, smtp: SmtpTestServer
) -> None:
    ids = [queue(client, account, subject=f"batch {i}") for i in range(4)]
    smtp.script_reply("MAIL")  # the own row goes through untouched
    smtp.script_reply("MAIL", "451 4.3.0 try again later")  # the first sibling: stop the batch
    assert run_task(account, ids[0]).result["status"] == "sent"
    rows = [outbox_row(account.caller, i) for i in ids]
    assert [(r.status, r.attempts) for r in rows] == [
        ("sent", 1),
        ("queued", 1),
        ("queued", 0),
        ("queued", 0),
    ]
    assert len(smtp.messages) == 1
    assert run_task(account, ids[3]).result["status"] == "sent"
    assert {outbox_row(account.caller, i).status for i in ids} == {"sent"} and len(smtp.messages) == 4


def _advisory_waiters(servers: ServerSet) -> int:
    with psycopg.connect(servers.pg.admin_url, autocommit=True) as conn:
        sql = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0


def _wait_until_waiting(servers: ServerSet, thread: threading.Thread, answers: list[Any]) -> None:
    """Until the task thread waits on the account's lock (PostgreSQL: an ungranted advisory lock;
    SQLite: it polls its flock, so give it a moment)."""
    if isinstance(servers.db, SqliteDatabase):
        thread.join(0.5)
        assert thread.is_alive(), answers
        return
    while _advisory_waiters(servers) == 0:
        assert thread.is_alive(), answers  # it must wait, not answer while the drainer runs
        thread.join(0.02)


def test_a_task_waits_for_the_live_drainer_instead_of_calling_its_row_uncertain(
    client: Any, account: SendAccount, smtp: SmtpTestServer, servers: ServerSet
) -> None:
    outbox_id = queue(client, account)
    job = SendJob(outbox_id, account.account_id, account.caller.tenant_id, account.caller.user_id)
    answers: list[Any] = []
    with account_send_lock(account.account_id) as drainer:  # a live drainer has claimed the row
        assert drainer.acquire()
        step = claim(job)
        assert not isinstance(step, dict) and outbox_row(account.caller, outbox_id).status == "sending"
        task = threading.Thread(target=lambda: answers.append(run_task(account, outbox_id).result))
        task.start()
        _wait_until_waiting(servers, task, answers)
        with session_scope(account.caller.tenant_id) as session:  # the drainer records its outcome
            row = session.get(OutboxMessage, outbox_id)
            assert row is not None
            result = {"status": "sent", "message_id": step.message_id, "recipients_sent": 1}
            finish_row(row, "sent", result, None)
    task.join(30)
    assert [a["status"] for a in answers] == ["sent"] and answers[0]["message_id"] == step.message_id
    assert smtp.messages == [] and outbox_row(account.caller, outbox_id).status == "sent"


def test_a_waiting_task_drains_what_the_last_drainer_left(
    client: Any, account: SendAccount, smtp: SmtpTestServer, servers: ServerSet
) -> None:
    ids = [queue(client, account, subject=f"left {i}") for i in range(4)]
    answers: list[Any] = []
    with account_send_lock(account.account_id) as drainer:  # holds the lock, then stops sending
        assert drainer.acquire()
        task = threading.Thread(target=lambda: answers.append(run_task(account, ids[1]).result))
        task.start()
        _wait_until_waiting(servers, task, answers)
        assert smtp.messages == []
    task.join(30)
    assert [a["status"] for a in answers] == ["sent"]
    assert [outbox_row(account.caller, i).status for i in ids] == ["sent"] * 4
    assert len(smtp.messages) == 4 and smtp.connections == 1  # one connection for the account's queue
    for outbox_id in ids:  # each row's own task answers its stored result, no second send
        assert run_task(account, outbox_id).result["status"] == "sent"
    assert len(smtp.messages) == 4
