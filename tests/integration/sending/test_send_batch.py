"""Batched sending on real PostgreSQL and the SMTP test server: one task run sends the account's
queued rows, each sibling task answers its own stored result, and per-row outcomes stay per row."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from email_service.core.db import session_scope
from email_service.sending.locks import send_locks
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


@pytest.mark.pg_only  # batching and its advisory locks exist only on PostgreSQL
def test_a_sibling_waits_for_a_live_batch_instead_of_calling_its_row_uncertain(
    client: Any, account: SendAccount, smtp: SmtpTestServer, servers: ServerSet
) -> None:
    outbox_id = queue(client, account)
    job = SendJob(outbox_id, account.account_id, account.caller.tenant_id, account.caller.user_id)
    answers: list[Any] = []
    with send_locks() as batch:  # a live batch of another task holds the row's send lock
        assert batch.try_send_many([outbox_id]) == {outbox_id}
        step = claim(job)
        assert not isinstance(step, dict) and outbox_row(account.caller, outbox_id).status == "sending"
        sibling = threading.Thread(target=lambda: answers.append(run_task(account, outbox_id).result))
        sibling.start()
        while _advisory_waiters(servers) == 0:
            assert sibling.is_alive(), answers  # it must wait, not answer while the batch runs
            sibling.join(0.02)
        with session_scope(account.caller.tenant_id) as session:  # the batch records its outcome
            row = session.get(OutboxMessage, outbox_id)
            assert row is not None
            result = {"status": "sent", "message_id": step.message_id, "recipients_sent": 1}
            finish_row(row, "sent", result, None)
    sibling.join(30)
    assert [a["status"] for a in answers] == ["sent"] and answers[0]["message_id"] == step.message_id
    assert smtp.messages == [] and outbox_row(account.caller, outbox_id).status == "sent"


@pytest.mark.pg_only  # batching and its advisory locks exist only on PostgreSQL
def test_a_task_whose_row_is_in_a_live_batch_sends_the_free_rows_while_it_waits(
    client: Any, account: SendAccount, smtp: SmtpTestServer, servers: ServerSet
) -> None:
    held, *free = [queue(client, account, subject=f"batch {i}") for i in range(4)]
    job = SendJob(held, account.account_id, account.caller.tenant_id, account.caller.user_id)
    answers: list[Any] = []
    with send_locks() as batch:  # another run's live batch holds only the first row
        assert batch.try_send_many([held]) == {held}
        step = claim(job)
        assert not isinstance(step, dict)
        waiter = threading.Thread(target=lambda: answers.append(run_task(account, held).result))
        waiter.start()
        while _advisory_waiters(servers) == 0:
            assert waiter.is_alive(), answers
            waiter.join(0.02)
        # Waiting on the held row now; the three free rows went out first, over one connection.
        assert [outbox_row(account.caller, i).status for i in free] == ["sent"] * 3
        assert sorted(delivered_ids(smtp)) == sorted(
            outbox_row(account.caller, i).message_id_header or "" for i in free
        )
        assert outbox_row(account.caller, held).status == "sending" and smtp.connections == 1
        with session_scope(account.caller.tenant_id) as session:
            row = session.get(OutboxMessage, held)
            assert row is not None
            finish_row(
                row, "sent", {"status": "sent", "message_id": step.message_id, "recipients_sent": 1}, None
            )
    waiter.join(30)
    assert [a["status"] for a in answers] == ["sent"] and len(smtp.messages) == 3
    for outbox_id in free:  # each free row's own task answers the stored result, no second send
        assert run_task(account, outbox_id).result["status"] == "sent"
    assert len(smtp.messages) == 3
