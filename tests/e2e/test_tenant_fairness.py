"""Issue 16 item 4, fairness: one tenant whose accounts sit on slow servers cannot take every worker
process. A real prefork worker with two processes and SYNC_TENANT_CONCURRENCY=1; tenant A has two
accounts behind proxies to Dovecot that trickle the FETCH answer one byte a second; tenant B's sync,
published after both, must still finish within the bound while A's syncs are stuck. Without the cap
both of A's syncs hold both processes until IMAP_COMMAND_TIMEOUT_SECONDS (40 s) cuts them off.
"""

from __future__ import annotations

import os
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import func, select

from email_service.core.db import session_scope
from email_service.messages.model import Message
from email_service.tasks.celery_app import TASK_PREFIX, celery_app
from tests.attack_report import Attack
from tests.conftest import Caller, ServerSet
from tests.hostile.slow_servers import trickling_proxy
from tests.integration.sync.sync_support import SyncAccount, make_account, message
from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot_fixtures import new_user
from tests.servers.processes import ALL_QUEUES, start_worker, stop_process

STALL_SECONDS = 40  # IMAP_COMMAND_TIMEOUT_SECONDS of the worker: how long a stuck sync holds a process
BOUND_SECONDS = 20.0  # tenant B's sync, published after A's two, is done within this


def _publish(broker_url: str, account: SyncAccount) -> None:
    kwargs = {
        "email_client_id": account.account_id,
        "tenant_id": account.caller.tenant_id,
        "user_id": account.caller.user_id,
    }
    with celery_app.connection_for_write(broker_url) as conn, conn.Producer() as producer:
        celery_app.send_task(
            TASK_PREFIX + "sync_emails", kwargs=kwargs, task_id=str(uuid.uuid4()), producer=producer
        )


def _stored(account: SyncAccount) -> int:
    with session_scope(account.caller.tenant_id) as session:
        query = select(func.count()).select_from(Message).where(Message.account_id == account.account_id)
        return int(session.scalar(query) or 0)


def test_one_tenants_stuck_syncs_leave_a_process_for_another_tenant(
    clean_db: ServerSet,
    private_broker: str,
    tmp_path: Path,
    owner: Caller,
    other_tenant: Caller,
    dovecot: DovecotServer,
    attack: Attack,
) -> None:
    slow_users = [new_user(dovecot) for _ in range(2)]
    fast_user = new_user(dovecot)
    for user in [*slow_users, fast_user]:
        dovecot.append(user.username, "INBOX", [message(i) for i in range(1, 4)])
    env = {
        **os.environ,
        "REDIS_URL": private_broker,
        "SYNC_TENANT_CONCURRENCY": "1",
        "IMAP_COMMAND_TIMEOUT_SECONDS": str(STALL_SECONDS),
    }
    with ExitStack() as stack:
        ports = [stack.enter_context(trickling_proxy(u.port, b"BODY.PEEK[]")) for u in slow_users]
        slow = [make_account(owner, user, port=port) for user, port in zip(slow_users, ports, strict=True)]
        fast = make_account(other_tenant, fast_user)
        worker = start_worker(env, tmp_path / "worker.log", queues=ALL_QUEUES, concurrency=2, name="fair")
        stack.callback(stop_process, worker)
        for account in slow:
            _publish(private_broker, account)
        time.sleep(1.0)  # both of A's syncs are taken (and stuck, or waiting for their slot) first
        published = time.monotonic()
        _publish(private_broker, fast)
        while _stored(fast) < 3:
            elapsed = time.monotonic() - published
            assert elapsed < BOUND_SECONDS, (
                f"tenant B's sync not done after {elapsed:.1f} s:\n"
                + (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
            )
            time.sleep(0.2)
        elapsed = time.monotonic() - published
        assert [_stored(account) for account in slow] == [0, 0]  # A's syncs are still stuck
    attack(
        "2 syncs of one tenant stalled on trickling servers: another tenant's sync done in",
        elapsed,
        BOUND_SECONDS,
    )
