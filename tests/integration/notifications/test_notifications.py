"""Notifications against the real SMTP test server and Redis broker: what is published, what arrives."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from email_service.sending.service import SendFailed
from tests.conftest import Caller, make_caller
from tests.integration.notifications.notification_support import (
    SENDER,
    mails_to,
    parts,
    relay,
    run,
    run_all,
    set_tenant_switches,
    take_notifications,
    user_email,
)
from tests.integration.sending.send_support import SendAccount, make_send_account, post_send, run_task
from tests.servers.smtp_server import SmtpTestServer, free_port

REFUSAL = "550 5.1.1 <bob@example.test>: Recipient address rejected: no such user"
ID_FIELDS = {
    "template",
    "task_name",
    "task_id",
    "status",
    "execution_time",
    "error_message",
    "result",
    "account_id",
    "completed_at",
    "subject_template",
    "tenant_id",
    "user_id",
}


@pytest.fixture(autouse=True)
def _empty_send_queue(clean_db: Any) -> None:
    take_notifications()


@pytest.fixture
def account(owner: Caller, smtp: SmtpTestServer) -> SendAccount:
    return make_send_account(owner, smtp)


def failed_send(client: Any, account: SendAccount, smtp: SmtpTestServer) -> str:
    """Queue a send through the API and run it; the server refuses the only recipient for good."""
    response = post_send(client, account, subject="Quarterly <report>", body_text="the secret body")
    task_id = str(response.get_json()["taskId"])
    smtp.script_reply("RCPT", REFUSAL)
    outcome = run_task(account, task_id)
    assert outcome.failed() and isinstance(outcome.result, SendFailed)
    return task_id


def test_failed_send_mails_a_not_delivered_notice_with_both_parts_and_links(
    client: Any, account: SendAccount, smtp: SmtpTestServer, owner: Caller, tmp_path: Path
) -> None:
    with relay(smtp, tmp_path):
        task_id = failed_send(client, account, smtp)
        [published] = take_notifications()
        assert set(published.kwargs) <= ID_FIELDS  # ids and an outcome, no entities or bodies
        assert published.kwargs["task_id"] == task_id and published.kwargs["status"] == "failed"
        assert "secret body" not in str(published.kwargs) and "bob@" not in str(published.kwargs["result"])
        assert run(published)["status"] == "sent"

    [mail] = mails_to(smtp, user_email(owner.tenant_id, owner.user_id))
    assert mail["Subject"] == "Not delivered: Quarterly <report>"
    assert mail["From"] == SENDER and mail["Auto-Submitted"] == "auto-generated"
    text, html = parts(mail)
    link = f"http://frontend.test/outbox/{task_id}"
    assert "no such user" in text and link in text and "bob@example.test" in text
    assert f'href="{link}"' in html and "Quarterly &lt;report&gt;" in html and "no such user" in html
    assert "secret body" not in text + html
    received = [m for m in smtp.messages if m.mail_from == "notify@example.test"]
    assert received[0].tls and received[0].user == "alice@example.test"  # STARTTLS + AUTH to the relay


def test_successful_send_and_retries_publish_nothing(
    client: Any, account: SendAccount, smtp: SmtpTestServer, task_retries: list[BaseException]
) -> None:
    response = post_send(client, account)
    smtp.script_reply("RCPT", "451 4.3.0 try again later")
    assert run_task(account, response.get_json()["taskId"]).successful()
    assert len(task_retries) == 1
    assert take_notifications() == []


def test_final_failure_after_retries_publishes_exactly_one_notice(
    client: Any, account: SendAccount, smtp: SmtpTestServer, task_retries: list[BaseException]
) -> None:
    response = post_send(client, account)
    for _ in range(4):
        smtp.script_reply("RCPT", "451 4.3.0 try again later")
    assert run_task(account, response.get_json()["taskId"]).failed()
    assert len(task_retries) == 3
    [published] = take_notifications()
    assert "451" in published.kwargs["error_message"]


def test_toggled_off_tenant_gets_nothing(
    client: Any, account: SendAccount, smtp: SmtpTestServer, owner: Caller, tmp_path: Path
) -> None:
    set_tenant_switches(owner.tenant_id, {"send_failed": False})
    with relay(smtp, tmp_path):
        failed_send(client, account, smtp)
        assert [r["reason"] for r in run_all()] == ["switched_off"]
    assert mails_to(smtp, user_email(owner.tenant_id, owner.user_id)) == []


@pytest.mark.parametrize("address", ["someone@placeholder.local", "user@host.invalid", "not-an-address"])
def test_placeholder_user_gets_nothing(
    client: Any, smtp: SmtpTestServer, tmp_path: Path, clean_db: Any, address: str
) -> None:
    caller = make_caller(email=address)
    account = make_send_account(caller, smtp)
    with relay(smtp, tmp_path):
        failed_send(client, account, smtp)
        assert [r["reason"] for r in run_all()] == ["undeliverable_address"]
    assert [m for m in smtp.messages if m.mail_from == "notify@example.test"] == []


def test_smtp_down_the_reported_task_still_finishes_and_nothing_raises(
    client: Any, account: SendAccount, smtp: SmtpTestServer, tmp_path: Path, task_retries: list[BaseException]
) -> None:
    with relay(smtp, tmp_path, port=free_port()):  # nothing listens there
        failed_send(client, account, smtp)  # fails as the send itself failed, not because of the notice
        retries_of_send = len(task_retries)
        [outcome] = run_all()
    assert outcome["status"] == "failed" and "connection" in outcome["error"]
    assert retries_of_send == 0 and len(task_retries) == 3  # only the notification retried


def test_redelivered_notification_is_mailed_once(
    client: Any, account: SendAccount, smtp: SmtpTestServer, owner: Caller, tmp_path: Path
) -> None:
    with relay(smtp, tmp_path):
        failed_send(client, account, smtp)
        [published] = take_notifications()
        assert run(published)["status"] == "sent"
        assert run(published) == {"status": "skipped", "reason": "duplicate", "template": "send_failed"}
    assert len(mails_to(smtp, user_email(owner.tenant_id, owner.user_id))) == 1


def test_uncertain_notification_is_not_retried_and_never_mailed_twice(
    client: Any,
    account: SendAccount,
    smtp: SmtpTestServer,
    owner: Caller,
    tmp_path: Path,
    task_retries: list[BaseException],
) -> None:
    """The relay takes the body and drops the line before its reply: the notice may have arrived."""
    with relay(smtp, tmp_path):
        failed_send(client, account, smtp)
        [published] = take_notifications()
        smtp.script_reply("DATA", None, close=True)
        outcome = run(published)
        assert outcome["status"] == "uncertain" and "may have been delivered" in outcome["error"]
        assert run(published)["reason"] == "duplicate"  # a redelivery does not send it either
    assert task_retries == []
    assert len(mails_to(smtp, user_email(owner.tenant_id, owner.user_id))) == 1


def test_not_configured_is_a_logged_no_op(client: Any, account: SendAccount, smtp: SmtpTestServer) -> None:
    failed_send(client, account, smtp)
    [outcome] = run_all()
    assert outcome["status"] == "skipped" and outcome["reason"] == "smtp_not_configured"
    assert [m for m in smtp.messages if m.mail_from == "notify@example.test"] == []


def test_unknown_task_id_is_not_confused_with_another_users_outbox(
    smtp: SmtpTestServer, owner: Caller, other_tenant: Caller, tmp_path: Path
) -> None:
    """Only the user named in the message is mailed, and only their own entities are read."""
    with relay(smtp, tmp_path):
        from tests.integration.notifications.notification_support import Published

        kwargs = {
            "template": "send_failed",
            "tenant_id": other_tenant.tenant_id,
            "user_id": owner.user_id,  # a user of another tenant: nobody to mail
            "task_id": str(uuid4()),
            "status": "failed",
        }
        assert run(Published(str(uuid4()), {}, kwargs))["reason"] == "user_not_found"
    assert smtp.messages == []
