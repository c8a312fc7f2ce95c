"""Account and sync notices against real Dovecot, Redis and the SMTP test server; the test endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from celery import shared_task

from email_service.accounts.service import update_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.tasking.base import TenantTask
from email_service.notifications import EmailTemplate, email_notification
from email_service.ops.scheduling import dispatch_due_syncs
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller, make_caller
from tests.integration.notifications.notification_support import (
    mails_to,
    parts,
    relay,
    run,
    run_all,
    set_user_switches,
    take_notifications,
    user_email,
)
from tests.integration.sync.sync_support import SyncAccount, make_account, message
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer, free_port


@shared_task(bind=True, base=TenantTask, name="tests.notifications.report")
@email_notification(template=EmailTemplate.TASK_COMPLETION, subject_template="Report {{ item_id }} ready")
def report_task(self: TenantTask, tenant_id: str, user_id: str) -> dict[str, Any]:
    """A task returning secrets and content next to counts and ids."""
    return {
        "status": "done",
        "processed": 3,
        "item_id": "abc-1",
        "password": "hunter2",
        "body_text": "private",
    }


@pytest.fixture(autouse=True)
def _empty_send_queue(clean_db: Any) -> None:
    take_notifications()


def kwargs(account: SyncAccount) -> dict[str, Any]:
    account_id, tenant_id, user_id = account.ids
    return {"email_client_id": account_id, "tenant_id": tenant_id, "user_id": user_id}


def test_auth_failure_notice_is_sent_once_across_runs_and_rearmed_by_a_new_password(
    owner: Caller, imap_user: ImapUser, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    account = make_account(owner, imap_user, password="wrong-password")
    with relay(smtp, tmp_path):
        for _ in range(3):
            assert sync_emails.apply(kwargs=kwargs(account)).failed()
            assert dispatch_due_syncs(lambda _dispatches: None).dispatched == 0  # parked: no periodic runs
        assert [r["status"] for r in run_all()] == ["sent"]
        with session_scope(owner.tenant_id) as session:
            changes = {"password": "still-wrong"}
            update_account(
                session, get_secret_box(), account.account_id, owner.tenant_id, owner.user_id, changes
            )
        assert sync_emails.apply(kwargs=kwargs(account)).failed()
        assert [r["status"] for r in run_all()] == ["sent"]
    mails = mails_to(smtp, user_email(owner.tenant_id, owner.user_id))
    assert len(mails) == 2
    assert mails[0]["Subject"] == f"Sign-in failed for {imap_user.email}"
    text, html = parts(mails[0])
    link = f"http://frontend.test/accounts/{account.account_id}"
    assert link in text and f'href="{link}"' in html and "wrong-password" not in text + html


def test_sync_summary_is_off_by_default_and_sent_when_the_user_opts_in(
    owner: Caller, imap_user: ImapUser, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    account = make_account(owner, imap_user)
    imap_user.server.append(imap_user.username, "INBOX", [message(1), message(2)])
    with relay(smtp, tmp_path):
        assert sync_emails.apply(kwargs=kwargs(account)).get()["messages_synced"] == 2
        assert take_notifications() == []
        set_user_switches(owner.tenant_id, owner.user_id, {"sync_summary": True})
        assert sync_emails.apply(kwargs=kwargs(account)).get()["messages_synced"] == 0
        assert take_notifications() == []  # nothing new: nothing to summarise
        imap_user.server.append(imap_user.username, "INBOX", [message(3)])
        assert sync_emails.apply(kwargs=kwargs(account)).get()["messages_synced"] == 1
        assert [r["status"] for r in run_all()] == ["sent"]
    [mail] = mails_to(smtp, user_email(owner.tenant_id, owner.user_id))
    assert mail["Subject"] == f"1 new message in {imap_user.email}"
    text, _html = parts(mail)
    assert f"http://frontend.test/accounts/{account.account_id}" in text


def test_smtp_down_a_successful_sync_still_succeeds(
    owner: Caller, imap_user: ImapUser, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    account = make_account(owner, imap_user)
    set_user_switches(owner.tenant_id, owner.user_id, {"sync_summary": True})
    imap_user.server.append(imap_user.username, "INBOX", [message(1)])
    with relay(smtp, tmp_path, port=free_port()):
        outcome = sync_emails.apply(kwargs=kwargs(account))
        assert outcome.successful() and outcome.get()["status"] == "success"
        [notice] = run_all()
    assert notice["status"] == "failed"


def test_task_completion_carries_counts_and_ids_never_secrets(
    owner: Caller, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    assert report_task.apply(kwargs={"tenant_id": owner.tenant_id, "user_id": owner.user_id}).successful()
    assert take_notifications() == []  # opt-in: off until the user asks for it
    set_user_switches(owner.tenant_id, owner.user_id, {"task_completion": True})
    with relay(smtp, tmp_path):
        assert report_task.apply(kwargs={"tenant_id": owner.tenant_id, "user_id": owner.user_id}).successful()
        [published] = take_notifications()
        assert published.kwargs["result"] == {"status": "done", "processed": 3, "item_id": "abc-1"}
        assert run(published)["status"] == "sent"
    [mail] = mails_to(smtp, user_email(owner.tenant_id, owner.user_id))
    text, html = parts(mail)
    assert mail["Subject"] == "Report abc-1 ready"
    assert "processed: 3" in text and f"http://frontend.test/tasks/{published.kwargs['task_id']}" in text
    assert "hunter2" not in text + html and "private" not in text + html


def test_test_endpoint_mails_the_caller(
    client: Any, owner: Caller, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    response = client.post("/api/notifications/test", headers=owner.headers)
    assert response.status_code == 409 and "SMTP_HOST" in response.get_json()["error"]["message"]
    with relay(smtp, tmp_path):
        response = client.post("/api/notifications/test", headers=owner.headers)
        assert response.status_code == 202
        task_id = response.get_json()["taskId"]
        [published] = take_notifications()
        assert published.task_id == task_id and run(published)["status"] == "sent"
        placeholder = make_caller(tenant_id=owner.tenant_id, email="someone@placeholder.example")
        refused = client.post("/api/notifications/test", headers=placeholder.headers)
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "validation_error"
    [mail] = mails_to(smtp, user_email(owner.tenant_id, owner.user_id))
    assert mail["Subject"] == "Test notification from email_service"
    assert client.get(f"/api/tasks/{task_id}", headers=owner.headers).status_code == 200


def test_a_sync_that_only_stored_a_copy_sends_no_summary(
    owner: Caller, imap_user: ImapUser, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    """Another client filed an INBOX message in a second folder: stored, not new mail, no summary."""
    account = make_account(owner, imap_user)
    set_user_switches(owner.tenant_id, owner.user_id, {"sync_summary": True})
    imap_user.server.append(imap_user.username, "INBOX", [message(1)])
    with relay(smtp, tmp_path):
        first = sync_emails.apply(kwargs=kwargs(account)).get()
        assert (first["messages_synced"], first["messages_new"]) == (1, 1)
        assert [r["status"] for r in run_all()] == ["sent"]
        imap_user.server.append(imap_user.username, "Archive", [message(1)])
        again = sync_emails.apply(kwargs=kwargs(account)).get()
        assert (again["messages_synced"], again["messages_new"]) == (1, 0)
        assert take_notifications() == []
    assert len(mails_to(smtp, user_email(owner.tenant_id, owner.user_id))) == 1
