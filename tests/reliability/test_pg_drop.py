"""PostgreSQL drops the sync's connection in the middle of a batch: the batch rolls back, the task
retries (OperationalError is transient) and the mailbox ends up mirrored exactly, without duplicates.

The cut is placed deterministically: the admin locks the messages table, waits until the sync's
backend is blocked writing a batch, and terminates that backend (pg_terminate_backend).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import psycopg
from sqlalchemy.exc import OperationalError

from email_service.sync.tasks import sync_emails
from tests.conftest import Caller, ServerSet, apply_environment
from tests.integration.sync.sync_support import make_account, message, uids
from tests.reliability.conftest import ProxyFactory
from tests.reliability.imap_support import server_uids
from tests.reliability.scoreboard import ScenarioCount
from tests.reliability.waits import wait_for
from tests.servers.dovecot_fixtures import ImapUser

LINE = "A dropped database connection must roll the batch back, then retry it.\r\n"
# pg_stat_activity is a per-transaction snapshot: clear it so each poll sees the present.
BLOCKED = """SELECT pid, pg_stat_clear_snapshot() FROM pg_stat_activity
WHERE usename = %s AND datname = current_database() AND wait_event_type = 'Lock'"""
COUNT = "SELECT count(*) FROM messages WHERE account_id = %s"


def test_pg_connection_dropped_mid_batch_rolls_back_and_retries(
    owner: Caller,
    imap_user: ImapUser,
    tcp_proxy: ProxyFactory,
    servers: ServerSet,
    scenario: ScenarioCount,
    task_retries: list[BaseException],
) -> None:
    total = 300
    imap_user.server.seed_maildir(
        imap_user.username, "INBOX", [message(i, body=LINE * 40) for i in range(total)]
    )
    proxy = tcp_proxy(imap_user.port)
    proxy.slow(150_000)  # ~3 KB each: a batch of 50 every ~1 s, so the kill lands mid-sync
    account = make_account(owner, imap_user, port=proxy.port)
    app_role = servers.pg.app_url.split("://", 1)[1].split(":", 1)[0]
    outcome: dict[str, Any] = {}
    kwargs = {"email_client_id": account.account_id, "tenant_id": owner.tenant_id, "user_id": owner.user_id}

    def run() -> None:
        outcome["result"] = sync_emails.apply(kwargs=kwargs)

    os.environ["SYNC_BATCH_SIZE"] = "50"
    apply_environment()
    worker = threading.Thread(target=run, daemon=True)
    try:
        worker.start()
        wait_for(lambda: len(uids(account)) >= 50, 60, "a first committed batch")
        with psycopg.connect(servers.pg.admin_url) as admin:  # one transaction, committed on exit
            admin.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")

            def blocked() -> int | None:
                row = admin.execute(BLOCKED, (app_role,)).fetchone()
                return int(row[0]) if row else None

            pid = wait_for(blocked, 60, "the sync to block writing a batch")
            before = admin.execute(COUNT, (account.account_id,)).fetchone()
            gone = admin.execute("SELECT pg_terminate_backend(%s, 30000)", (pid,)).fetchone()  # waits
            after = admin.execute(COUNT, (account.account_id,)).fetchone()
        proxy.heal()
        worker.join(120)
    finally:
        del os.environ["SYNC_BATCH_SIZE"]
        apply_environment()

    stored = uids(account)
    scenario.compare("INBOX messages", server_uids(imap_user), stored)
    result = outcome["result"]
    assert result.successful(), result.traceback
    assert [type(exc) for exc in task_retries] == [OperationalError]
    assert gone == (True,)
    assert before == after and before is not None and 50 <= before[0] < total  # nothing half-written
    assert stored == server_uids(imap_user) and len(stored) == len(set(stored)) == total
    assert result.result["status"] == "success"
