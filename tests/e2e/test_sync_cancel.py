"""Through the API and a real prefork worker: a big first sync, and a sync cancelled mid-way.

DELETE /api/tasks/<id> on a running sync stops it at the next batch boundary: what was committed
stays, the account lock is released at once, the task reads `revoked` (its record too), and a sync
started right after runs and fetches only the rest. The IMAP connection goes through a throttling
proxy so the first batch is committed long before the last would be.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from email_service.core.db import session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.sync.cancel import cancel_key
from email_service.sync.lock import lock_key
from tests.conftest import Caller, ServerSet, make_caller
from tests.e2e.http import call, poll_task
from tests.integration.sync.sync_support import SyncAccount, message, uids
from tests.reliability.imap_support import server_uids
from tests.reliability.proxy import TcpProxy
from tests.reliability.waits import wait_for
from tests.servers.dovecot_fixtures import ImapUser

LINE = "A cancelled sync keeps what it committed; this line pads the body.\r\n"


@pytest.fixture
def proxy(imap_user: ImapUser) -> Iterator[TcpProxy]:
    proxy = TcpProxy(imap_user.port)
    try:
        yield proxy
    finally:
        proxy.close()


def _start_sync(api_url: str, owner: Caller, account_id: str) -> str:
    status, started = call("POST", f"{api_url}/api/email/sync", owner.token, {"email_client_id": account_id})
    assert status == 202, started
    return str(started["taskId"])


def _account(api_url: str, owner: Caller, imap_user: ImapUser, port: int) -> SyncAccount:
    status, account = call(
        "POST", f"{api_url}/api/accounts", owner.token, imap_user.account_data(imap_port=port)
    )
    assert status == 201, account
    return SyncAccount(owner, imap_user, account["id"])


def test_a_first_sync_of_1200_messages_runs_in_a_prefork_worker(
    api_url: str, worker: object, clean_db: ServerSet, imap_user: ImapUser
) -> None:
    """1,000+ new messages parse in a process pool, which a daemonic pool process could not start."""
    total = 1200
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(total)])
    owner = make_caller()
    account = _account(api_url, owner, imap_user, imap_user.port)

    done = poll_task(api_url, owner.token, _start_sync(api_url, owner, account.account_id), timeout=180)

    assert done["status"] == "success", done
    assert done["result"]["status"] == "success" and done["result"]["messages_synced"] == total
    assert uids(account) == server_uids(imap_user)


def test_cancel_stops_a_running_sync_at_a_batch_boundary_and_frees_the_account(
    api_url: str, worker: object, clean_db: ServerSet, imap_user: ImapUser, proxy: TcpProxy
) -> None:
    total = 2000  # ~1.6 KB each through 150 KB/s: ~20 s unless cancelled; batches of 500
    imap_user.server.seed_maildir(
        imap_user.username, "INBOX", [message(i, body=LINE * 20) for i in range(total)]
    )
    proxy.slow(150_000)
    owner = make_caller()
    account = _account(api_url, owner, imap_user, proxy.port)
    task_id = _start_sync(api_url, owner, account.account_id)
    wait_for(lambda: len(uids(account)), 90, "a first batch to be committed")

    status, cancelled = call("DELETE", f"{api_url}/api/tasks/{task_id}", owner.token)
    assert status == 202 and cancelled["status"] == "revoked", cancelled
    stopped = poll_task(api_url, owner.token, task_id, timeout=90)

    kept = uids(account)
    broker = redis.Redis.from_url(clean_db.redis_url)
    assert stopped["status"] == "revoked", stopped
    assert broker.get(lock_key(account.account_id)) is None  # released, not left to its TTL
    assert 0 < len(kept) < total and len(kept) == len(set(kept))
    assert stopped["result"]["status"] == "revoked"
    assert stopped["result"]["messages_synced"] == len(kept)
    assert broker.exists(cancel_key(task_id))
    with session_scope(owner.tenant_id) as session:
        record = session.get(TaskRecord, task_id)
        assert record is not None and record.status == "revoked"
        assert record.result["messages_synced"] == len(kept)

    proxy.slow(None)
    again = poll_task(api_url, owner.token, _start_sync(api_url, owner, account.account_id), timeout=120)

    assert again["status"] == "success", again
    assert again["result"]["status"] == "success", again  # not "already_running"
    assert again["result"]["messages_synced"] == total - len(kept)
    stored = uids(account)
    assert stored == server_uids(imap_user) and len(stored) == total
