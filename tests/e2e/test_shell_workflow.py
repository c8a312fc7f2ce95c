"""PHASE_7_CELERY.md's manual-testing and monitoring commands, run as written against a real worker.

A fresh Python process imports the tasks and helpers from the Celery app module, syncs a Dovecot
account with `.delay(...).get()`, watches a sync stuck on a silent IMAP server run, terminates it with
`revoke_task(id, terminate=True)`; then `celery -A email_service.tasks.celery_app inspect registered`
lists every task the worker knows.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from email_service.accounts.service import create_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.tasking.status import get_queue_stats
from email_service.tasks.celery_app import TASK_PREFIX, celery_app
from tests.conftest import ServerSet, make_caller
from tests.integration.sync.sync_support import message
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.processes import BIN

GUIDE = Path(__file__).resolve().parents[2] / "PHASE_7_CELERY.md"
IMPORT_LINE = (
    "from email_service.tasks.celery_app import sync_emails, send_email, delete_emails, check_spam, "
    "periodic_sync, cleanup_stale_results, get_active_tasks, get_task_status, get_queue_stats, revoke_task"
)
SHELL = f"""
import json, sys, time
{IMPORT_LINE}
a = json.loads(sys.argv[1])

def wait_status(task_id, wanted):
    deadline = time.monotonic() + 30
    while (status := get_task_status(task_id)["status"]) != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
    return status

result = sync_emails.delay(email_client_id=a["account"], tenant_id=a["tenant"], user_id=a["user"])
synced = result.get(timeout=30)
stuck = sync_emails.delay(email_client_id=a["stuck"], tenant_id=a["tenant"], user_id=a["user"])
running = wait_status(stuck.id, "running")
active = [t["id"] for tasks in get_active_tasks().values() for t in tasks]
revoke_task(stuck.id, terminate=True)
print(json.dumps({{
    "synced": synced, "status": get_task_status(result.id)["status"], "running": running,
    "active": stuck.id in active, "revoked": wait_status(stuck.id, "revoked"),
    "queues": get_queue_stats(),
}}))
"""


@pytest.fixture
def silent_imap() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: a sync there hangs until revoked."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_card_shell_workflow_against_a_real_worker(
    worker, clean_db: ServerSet, dovecot, imap_user: ImapUser, silent_imap: int
) -> None:
    assert IMPORT_LINE in GUIDE.read_text().replace("\n", " "), "the guide shows this import"
    dovecot.seed_maildir(imap_user.username, "INBOX", [message(n) for n in range(3)])
    owner = make_caller()
    with session_scope(owner.tenant_id) as session:
        box = get_secret_box()
        account = create_account(session, box, owner.tenant_id, owner.user_id, imap_user.account_data())
        stuck = create_account(
            session,
            box,
            owner.tenant_id,
            owner.user_id,
            imap_user.account_data(imap_port=silent_imap, email_address="stuck@example.test"),
        )
        ids = {"account": str(account.id), "stuck": str(stuck.id)}
    args = json.dumps({**ids, "tenant": owner.tenant_id, "user": owner.user_id})

    shell = subprocess.run(
        [sys.executable, "-c", SHELL, args], env=dict(os.environ), capture_output=True, text=True, timeout=120
    )

    assert shell.returncode == 0, shell.stderr[-3000:]
    out = json.loads(shell.stdout.strip().splitlines()[-1])
    assert out["synced"]["status"] == "success" and out["synced"]["messages_synced"] == 3, out
    assert out["status"] == "success"
    assert out["running"] == "running" and out["active"], out
    assert out["revoked"] == "revoked", out
    assert set(out["queues"]) == {"sync", "send", "delete", "spam", "periodic", "webhooks"}
    _wait_idle()


def _wait_idle(timeout: float = 30) -> None:
    """The sync queued spam scoring for its new mail: let it finish before the next test truncates."""
    deadline = time.monotonic() + timeout
    while True:
        active = celery_app.control.inspect(timeout=3).active()  # None: no reply yet, not idle
        if active and not any(active.values()) and not any(get_queue_stats().values()):
            return
        assert time.monotonic() < deadline, "the worker did not go idle"
        time.sleep(0.2)


def test_inspect_registered_through_the_app_module(worker, clean_db: ServerSet) -> None:
    celery_app.loader.import_default_modules()
    ours = {name for name in celery_app.tasks if name.startswith(TASK_PREFIX)}
    proc = subprocess.run(
        [str(BIN / "celery"), "-A", "email_service.tasks.celery_app", "inspect", "registered", "-t", "5"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = set(proc.stdout.replace("*", " ").split())
    assert ours <= listed, ours - listed
    assert len(ours) >= 9
