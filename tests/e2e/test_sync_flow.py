"""The frontend's path: create an account, POST /api/email/sync, poll the task, read the messages."""

from __future__ import annotations

from email.message import EmailMessage

import redis

from email_service.accounts.model import EmailAccount
from email_service.accounts.service import create_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.ops.beat_guard import tick_key
from email_service.tasks.celery_app import celery_app
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
    status, account = call("POST", f"{api_url}/api/accounts", owner.token, imap_user.account_data())
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


def test_beat_tick_fans_out_syncs_that_the_worker_runs(worker, clean_db, dovecot, imap_user) -> None:
    """periodic_sync on the worker publishes sync_emails; the same worker runs them to success."""
    dovecot.seed_maildir(imap_user.username, "INBOX", [_mail(n) for n in range(3)])
    owner = make_caller()
    with session_scope(owner.tenant_id) as session:
        account = create_account(
            session, get_secret_box(), owner.tenant_id, owner.user_id, imap_user.account_data()
        )
    redis.Redis.from_url(clean_db.redis_url).delete(tick_key("periodic_sync"))  # earlier tests' window

    tick = celery_app.send_task("email_service.tasks.periodic_sync").get(timeout=60)

    assert tick["status"] == "success" and tick["dispatched"] == 1, tick
    [task_id] = tick["task_ids"]
    result = celery_app.AsyncResult(task_id).get(timeout=60)
    assert result["status"] == "success" and result["messages_synced"] == 3
    with session_scope(owner.tenant_id) as session:
        assert session.get(EmailAccount, account.id).last_sync_at is not None
