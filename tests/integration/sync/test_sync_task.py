"""The sync_emails task end to end (eager): contract, tenancy, auth failure, lock, retries."""

from __future__ import annotations

from typing import Any

import pytest

from email_service.accounts.model import EmailAccount
from email_service.accounts.service import create_account
from email_service.core.config import get_settings
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.errors import TaskUnauthorized
from email_service.mail.imap.types import ImapConnectionError
from email_service.sync.lock import AccountLock, redis_client
from email_service.sync.service import SyncAuthError, SyncTlsError, run_account_sync
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller
from tests.integration.sync.sync_support import SyncAccount, make_account, message
from tests.servers.dovecot_fixtures import ImapUser

CONTRACT = {
    "status",
    "messages_synced",
    "messages_updated",
    "messages_deleted",
    "sync_duration_seconds",
    "timestamp",
}


@pytest.fixture
def account(owner: Caller, imap_user: ImapUser) -> SyncAccount:
    return make_account(owner, imap_user)


@pytest.fixture
def retries(task_retries: list[BaseException]) -> list[BaseException]:
    """Eager runs chain Celery's retries inline; each one is reported through the task_retry signal."""
    return task_retries


def kwargs(account: SyncAccount, **extra: Any) -> dict[str, Any]:
    account_id, tenant_id, user_id = account.ids
    return {"email_client_id": account_id, "tenant_id": tenant_id, "user_id": user_id, **extra}


def account_row(account: SyncAccount) -> EmailAccount:
    with session_scope(account.caller.tenant_id) as session:
        row = session.get(EmailAccount, account.account_id)
        assert row is not None
        return row


def test_task_returns_the_contract(account: SyncAccount) -> None:
    account.user.server.append(account.user.username, "INBOX", [message(1), message(2)])
    result = sync_emails.apply(kwargs=kwargs(account)).get()
    assert set(result) >= CONTRACT and result["status"] == "success"
    assert result["messages_synced"] == 2 and result["timestamp"] > 1_600_000_000_000
    row = account_row(account)
    assert row.last_sync_at is not None and row.state == "active"


def test_tenant_mismatch_refused_without_imap(account: SyncAccount, other_tenant: Caller) -> None:
    calls: list[object] = []

    def connector(settings: object) -> Any:
        calls.append(settings)
        raise AssertionError("no IMAP traffic for a foreign account")

    with pytest.raises(TaskUnauthorized):
        run_account_sync(
            account.account_id, other_tenant.tenant_id, other_tenant.user_id, connector=connector
        )
    assert calls == []
    bad = {**kwargs(account), "tenant_id": other_tenant.tenant_id, "user_id": other_tenant.user_id}
    outcome = sync_emails.apply(kwargs=bad)
    assert outcome.failed() and isinstance(outcome.result, TaskUnauthorized)


def test_auth_failure_marks_account_and_does_not_retry(
    owner: Caller, imap_user: ImapUser, retries: list[BaseException]
) -> None:
    account = make_account(owner, imap_user, password="wrong-password")
    outcome = sync_emails.apply(kwargs=kwargs(account))
    assert outcome.failed() and isinstance(outcome.result, SyncAuthError)
    assert retries == []
    row = account_row(account)
    assert row.state == "auth_error" and row.last_error


def test_connection_refused_is_retried(
    owner: Caller, imap_user: ImapUser, retries: list[BaseException]
) -> None:
    account = make_account(owner, imap_user, port=1)  # nothing listens on port 1
    outcome = sync_emails.apply(kwargs=kwargs(account))
    assert outcome.failed() and isinstance(outcome.result, ImapConnectionError)  # after the last retry
    assert len(retries) == sync_emails.max_retries == 5
    assert all(isinstance(exc, ImapConnectionError) for exc in retries)


def test_concurrent_sync_returns_already_running(account: SyncAccount) -> None:
    client = redis_client(get_settings().broker_url)
    with AccountLock(client, account.account_id, 60) as held:
        assert held
        result = sync_emails.apply(kwargs=kwargs(account)).get()
        assert result["status"] == "already_running" and result["messages_synced"] == 0
    assert sync_emails.apply(kwargs=kwargs(account)).get()["status"] == "success"
    client.close()


def test_lock_release_needs_the_owner_token(account: SyncAccount) -> None:
    client = redis_client(get_settings().broker_url)
    first = AccountLock(client, account.account_id, 60)
    assert first.acquire()
    second = AccountLock(client, account.account_id, 60)
    assert not second.acquire() and not second.release()
    client.delete(first.key)  # first's TTL "expired"; a newer run takes the lock
    assert second.acquire()
    assert not first.release()  # the late finisher must not free the newer run's lock
    assert client.get(second.key) is not None
    assert second.release() and client.get(second.key) is None
    client.close()


def test_refused_certificate_fails_at_once_with_the_reason(
    owner: Caller, imap_user: ImapUser, retries: list[BaseException]
) -> None:
    data = imap_user.account_data(imap_port=imap_user.ssl_port, imap_security="ssl")  # self-signed, no pin
    with session_scope(owner.tenant_id) as session:
        account_id = create_account(session, get_secret_box(), owner.tenant_id, owner.user_id, data).id
    outcome = sync_emails.apply(
        kwargs={"email_client_id": account_id, "tenant_id": owner.tenant_id, "user_id": owner.user_id}
    )
    assert outcome.failed() and isinstance(outcome.result, SyncTlsError)
    assert "certificate" in str(outcome.result) and retries == []
    with session_scope(owner.tenant_id) as session:
        row = session.get(EmailAccount, account_id)
        assert row is not None and row.state != "auth_error" and "certificate" in (row.last_error or "")
