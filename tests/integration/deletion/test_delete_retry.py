"""Transient IMAP failures: the task retries while attempts remain, then reports; a rerun finishes the job."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.deletion.tasks import delete_emails
from email_service.mail.imap.types import ImapConnectionError
from tests.conftest import Caller
from tests.integration.deletion.delete_support import ids_by_subject, rows_in, seeded_account, server_subjects
from tests.integration.sync.sync_support import SyncAccount
from tests.servers.dovecot import free_port
from tests.servers.dovecot_fixtures import ImapUser


@pytest.fixture
def retries(task_retries: list[BaseException]) -> list[BaseException]:
    """Eager runs chain Celery's retries inline; each one is reported through the task_retry signal."""
    return task_retries


def point_at(account: SyncAccount, port: int) -> None:
    with session_scope(account.caller.tenant_id) as session:
        session.execute(
            update(EmailAccount).where(EmailAccount.id == account.account_id).values(imap_port=port)
        )


def kwargs(account: SyncAccount, ids: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "email_ids": ids,
        "tenant_id": account.caller.tenant_id,
        "user_id": account.caller.user_id,
        **extra,
    }


def test_unreachable_server_retries_then_reports_and_a_rerun_completes(
    owner: Caller, imap_user: ImapUser, retries: list[BaseException]
) -> None:
    account = seeded_account(owner, imap_user)
    ids = ids_by_subject(account, "INBOX", "message 1")
    point_at(account, free_port())  # nothing listens there: connection refused

    first = delete_emails.apply(kwargs=kwargs(account, ids)).get()  # eager: the retries run inline
    assert first["status"] == "failed" and first["deleted_count"] == 0
    assert len(retries) == delete_emails.max_retries
    assert all(isinstance(exc, ImapConnectionError) for exc in retries)
    assert all(m.deleted_at is not None for m in rows_in(account, "INBOX") if m.id in ids)  # still hidden

    last = delete_emails.apply(kwargs=kwargs(account, ids), retries=delete_emails.max_retries).get()
    assert last["status"] == "failed" and last["deleted_count"] == 0
    assert "IMAP connection failed" in last["failed"][0]["reason"]
    assert len(retries) == delete_emails.max_retries  # the last attempt reports instead of retrying

    point_at(account, imap_user.port)
    done = delete_emails.apply(kwargs=kwargs(account, ids)).get()
    assert done["status"] == "success" and done["deleted_count"] == 1
    assert server_subjects(imap_user, "Trash") == ["message 1"]


def test_permanent_errors_are_not_retried(
    owner: Caller, imap_user: ImapUser, retries: list[BaseException]
) -> None:
    account = seeded_account(owner, imap_user)
    ids = ids_by_subject(account, "INBOX", "message 2")
    with session_scope(owner.tenant_id) as session:  # a wrong password: login refused, no retry
        session.execute(
            update(EmailAccount).where(EmailAccount.id == account.account_id).values(username="nobody")
        )
    result = delete_emails.apply(kwargs=kwargs(account, ids, permanent=True)).get()
    assert result["status"] == "failed" and "login refused" in result["failed"][0]["reason"]
    assert retries == []
    assert server_subjects(imap_user, "INBOX") == ["message 1", "message 2", "message 3"]
