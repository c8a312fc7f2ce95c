"""Cooperative cancel in the sync use case and task, on a real Dovecot (both backends).

The cancel flag is set from the progress callback, i.e. right after the first batch is committed,
as DELETE /api/tasks/<id> would while the sync runs; tests/e2e/test_sync_cancel.py does it through
the API and a worker.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.core.model_base import new_id
from email_service.core.tasking.model import TaskRecord
from email_service.core.tasking.records import record_task
from email_service.sync.cancel import request_cancel
from email_service.sync.lock import lock_key
from email_service.sync.plan import SyncOptions
from email_service.sync.service import run_account_sync
from email_service.sync.tasks import sync_emails
from tests.conftest import Caller, ServerSet
from tests.integration.sync.sync_support import SyncAccount, make_account, message, uids
from tests.servers.dovecot_fixtures import ImapUser


@pytest.fixture
def account(owner: Caller, imap_user: ImapUser) -> SyncAccount:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(30)])
    return make_account(owner, imap_user)


@pytest.fixture
def broker(servers: ServerSet) -> redis.Redis:
    return redis.Redis.from_url(servers.redis_url)


def test_a_cancelled_sync_stops_after_the_committed_batch_and_frees_the_account(
    account: SyncAccount, broker: redis.Redis
) -> None:
    run_id = new_id()
    seen: list[dict[str, Any]] = []

    def progress(meta: dict[str, Any]) -> None:
        seen.append(meta)
        request_cancel(broker, run_id)

    options = SyncOptions(batch_size=10, parse_workers=0)
    result = run_account_sync(*account.ids, options=options, progress=progress, run_id=run_id)

    assert result.status == "revoked" and result.messages_synced == 10 == len(uids(account))
    assert [m["done"] for m in seen] == [10]
    assert broker.get(lock_key(account.account_id)) is None
    with session_scope(account.caller.tenant_id) as session:
        row = session.get(EmailAccount, account.account_id)
        assert row is not None and row.last_sync_at is None  # not a finished sync
    again = run_account_sync(*account.ids, options=options, run_id=new_id())
    assert again.status == "success" and again.messages_synced == 20
    assert uids(account) == list(range(1, 31))


def test_a_sync_task_cancelled_before_it_starts_ends_revoked_on_its_record(
    account: SyncAccount, broker: redis.Redis
) -> None:
    account_id, tenant_id, user_id = account.ids
    with session_scope(tenant_id) as session:
        task_id = record_task(session, tenant_id, user_id, "sync_emails", account_id=account_id).task_id
    request_cancel(broker, task_id)

    outcome = sync_emails.apply(
        kwargs={"email_client_id": account_id, "tenant_id": tenant_id, "user_id": user_id}, task_id=task_id
    )

    assert outcome.state == "IGNORED"
    assert uids(account) == [] and broker.get(lock_key(account_id)) is None
    with session_scope(tenant_id) as session:
        record = session.get(TaskRecord, task_id)
        assert record is not None and record.status == "revoked"
        assert record.result["status"] == "revoked" and record.result["messages_synced"] == 0
        assert record.error == {"type": "Revoked", "message": "task was cancelled"}
