"""The frontend's path: create an account, POST /api/email/sync, poll the task, read the messages."""

from __future__ import annotations

from email.message import EmailMessage

from tests.conftest import make_caller
from tests.e2e.http import call, poll_task


def _mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Sender {n} <sender{n}@example.test>"
    msg["To"] = "me@example.test"
    msg["Subject"] = f"e2e message {n}"
    msg["Message-ID"] = f"<e2e-{n}@example.test>"
    msg.set_content(f"body {n}")
    return bytes(msg)


def test_sync_through_worker_and_api(api_url, worker, clean_db, dovecot, imap_user) -> None:
    dovecot.seed_maildir(imap_user.username, "INBOX", [_mail(n) for n in range(5)])
    owner, stranger = make_caller(), make_caller()
    status, account = call(
        "POST",
        f"{api_url}/api/accounts",
        owner.token,
        {
            "email_address": imap_user.email,
            "imap_host": imap_user.host,
            "imap_port": imap_user.port,
            "imap_security": "none",
            "smtp_host": imap_user.host,
            "smtp_port": 1,
            "smtp_security": "none",
            "username": imap_user.username,
            "password": imap_user.password,
        },
    )
    assert status == 201, account
    status, started = call(
        "POST", f"{api_url}/api/email/sync", owner.token, {"email_client_id": account["id"]}
    )
    assert status == 202 and started["status"] == "pending"

    assert call("GET", f"{api_url}/api/tasks/{started['taskId']}", stranger.token)[0] == 404
    done = poll_task(api_url, owner.token, started["taskId"])
    assert done["status"] == "success", done
    assert done["result"]["status"] == "success"
    assert done["result"]["messages_synced"] == 5

    status, page = call("GET", f"{api_url}/api/email/messages?account_id={account['id']}", owner.token)
    assert status == 200
    assert sorted(m["subject"] for m in page["items"]) == [f"e2e message {n}" for n in range(5)]
    assert call("GET", f"{api_url}/api/email/messages?account_id={account['id']}", stranger.token)[0] == 404


def test_task_of_missing_tenant_argument_fails_without_retry(api_url, worker, clean_db) -> None:
    from email_service.tasks.celery_app import celery_app

    result = celery_app.send_task(
        "email_service.tasks.sync_emails", kwargs={"email_client_id": "x", "tenant_id": "t"}
    )
    try:
        result.get(timeout=30)
    except ValueError as exc:
        assert "requires tenant_id and user_id" in str(exc)
    else:
        raise AssertionError("a task without user_id must fail")
    assert result.state == "FAILURE"
