"""IMAP connection cut during the write side: the MOVE of a soft delete and the APPEND to Sent.

Each runs twice: cut before the command reaches Dovecot, and cut after Dovecot acted but before the
reply reached us (the case where a blind retry would duplicate). Counts are exact afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest

from email_service.deletion.tasks import delete_emails
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.deletion.delete_support import ids_by_subject, rows_in, server_subjects
from tests.integration.sending.send_support import (
    make_send_account,
    outbox_row,
    post_send,
    run_task,
)
from tests.integration.sync.sync_support import make_account, message
from tests.reliability.conftest import ProxyFactory
from tests.reliability.imap_support import copies_of, server_uids
from tests.reliability.scoreboard import ScenarioCount
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer

CUTS = {"command": (b"UID MOVE", "up"), "reply": (b"[COPYUID", "down")}
APPEND_CUTS = {"command": (b"APPEND", "up"), "reply": (b"[APPENDUID", "down")}
DOOMED = ("message 2", "message 4", "message 5")


@pytest.mark.parametrize("where", sorted(CUTS))
def test_cut_during_move_then_retry_leaves_exact_server_state(
    owner: Caller,
    imap_user: ImapUser,
    tcp_proxy: ProxyFactory,
    scenario: ScenarioCount,
    task_retries: list[BaseException],
    where: str,
) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(1, 7)])
    proxy = tcp_proxy(imap_user.port)
    account = make_account(owner, imap_user, port=proxy.port)
    run_account_sync(*account.ids)
    doomed = ids_by_subject(account, "INBOX", *DOOMED)

    proxy.cut_on(*CUTS[where])  # type: ignore[arg-type]
    kwargs = {"email_ids": doomed, "tenant_id": owner.tenant_id, "user_id": owner.user_id}
    result = delete_emails.apply(kwargs=kwargs)
    assert result.successful(), result.traceback
    run_account_sync(*account.ids)  # the next sync must neither resurrect nor duplicate

    trash_rows = rows_in(account, "Trash")
    scenario.compare("Trash on server", DOOMED, server_subjects(imap_user, "Trash"))
    scenario.compare("Trash rows", server_uids(imap_user, "Trash"), [m.uid for m in trash_rows])
    scenario.compare("INBOX rows", server_uids(imap_user), [m.uid for m in rows_in(account, "INBOX")])
    assert proxy.counters.cuts == 1 and len(task_retries) == 1
    assert result.result["deleted_count"] == 3 and result.result["failed"] == []
    assert server_subjects(imap_user, "Trash") == sorted(DOOMED)
    assert server_subjects(imap_user, "INBOX") == ["message 1", "message 3", "message 6"]
    assert sorted(m.subject for m in trash_rows) == sorted(DOOMED)
    assert all(m.deleted_at is not None for m in trash_rows)
    assert [m.uid for m in trash_rows] == server_uids(imap_user, "Trash")
    assert [m.uid for m in rows_in(account, "INBOX")] == server_uids(imap_user)


@pytest.mark.parametrize("where", sorted(APPEND_CUTS))
def test_cut_during_append_to_sent_sends_once_and_copies_exactly_once(
    app: Any,
    owner: Caller,
    smtp: SmtpTestServer,
    imap_user: ImapUser,
    tcp_proxy: ProxyFactory,
    scenario: ScenarioCount,
    where: str,
) -> None:
    proxy = tcp_proxy(imap_user.port)
    account = make_send_account(owner, smtp, imap_user, imap_port=proxy.port)
    proxy.cut_on(*APPEND_CUTS[where])  # type: ignore[arg-type]
    response = post_send(app.test_client(), account, subject="cut append")
    assert response.status_code == 202, response.get_json()
    task_id = response.get_json()["taskId"]

    first = run_task(account, task_id)
    again = run_task(account, task_id)  # a redelivery of the same message
    row = outbox_row(owner, task_id)
    copies = copies_of(imap_user, "Sent", row.message_id_header or "")
    scenario.deliveries("SMTP", len(smtp.messages), at_least=1)
    scenario.deliveries("Sent copy", copies)
    assert first.successful() and again.successful(), first.traceback
    assert proxy.counters.cuts == 1 and len(smtp.messages) == 1
    assert (first.result["status"], again.result["status"], row.status) == ("sent", "sent", "sent")
    # The connection is reopened once; a copy whose reply was lost is found, not appended again.
    assert first.result["write_back"]["sent_copy"] == "saved" and copies == 1
