"""SMTP faults at the end of DATA: a 421 is retried and delivered once; a connection that dies after
the body but before the reply leaves the outcome unknown, so the send is marked, never repeated."""

from __future__ import annotations

from typing import Any

from email_service.mail.smtp.client import SmtpTransientError
from tests.conftest import Caller
from tests.integration.sending.send_support import (
    SendAccount,
    make_send_account,
    outbox_row,
    post_send,
    run_task,
)
from tests.reliability.imap_support import copies_of
from tests.reliability.scoreboard import ScenarioCount
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer


def queued(app: Any, account: SendAccount, subject: str) -> str:
    response = post_send(app.test_client(), account, subject=subject)
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["taskId"])


def test_421_after_data_is_retried_and_delivered_exactly_once(
    app: Any,
    owner: Caller,
    smtp: SmtpTestServer,
    imap_user: ImapUser,
    scenario: ScenarioCount,
    task_retries: list[BaseException],
) -> None:
    account = make_send_account(owner, smtp, imap_user)
    task_id = queued(app, account, "421 then ok")
    smtp.script_reply("DATA", "421 4.3.2 shutting down, try later", close=True)

    result = run_task(account, task_id)
    row = outbox_row(owner, task_id)
    copies = copies_of(imap_user, "Sent", row.message_id_header or "")
    scenario.deliveries("SMTP", len(smtp.messages), at_least=1)
    scenario.deliveries("Sent copy", copies, at_least=1)
    assert result.successful(), result.traceback
    assert [type(exc) for exc in task_retries] == [SmtpTransientError]
    assert result.result["status"] == "sent" and row.status == "sent" and row.attempts == 2
    assert len(smtp.messages) == 1 and smtp.messages[0].data == row.mime
    assert copies == 1


def test_cut_after_data_before_reply_is_uncertain_and_never_resent(
    app: Any,
    owner: Caller,
    smtp: SmtpTestServer,
    imap_user: ImapUser,
    scenario: ScenarioCount,
    task_retries: list[BaseException],
) -> None:
    account = make_send_account(owner, smtp, imap_user)
    task_id = queued(app, account, "no reply after data")
    smtp.script_reply("DATA", None, close=True)  # the server took the body, then the line died

    first = run_task(account, task_id)
    again = run_task(account, task_id)  # redelivery of the same message must not send it again
    row = outbox_row(owner, task_id)
    copies = copies_of(imap_user, "Sent", row.message_id_header or "")
    scenario.deliveries("SMTP", len(smtp.messages))
    scenario.deliveries("Sent copy", copies)
    assert first.successful() and again.successful(), first.traceback
    assert (first.result["status"], again.result["status"], row.status) == (
        "uncertain",
        "uncertain",
        "uncertain",
    )
    assert task_retries == [] and row.attempts == 1
    assert len(smtp.messages) == 1 and copies == 0
