"""A real worker's JSON log lines and the API's /metrics after a sync_emails run through the broker."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

from email_service.accounts.service import create_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.tasking.start import publish_task
from tests.conftest import make_caller


def _mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.test", "b@example.test", f"obs {n}"
    msg.set_content(f"body {n}")
    return bytes(msg)


def _task_lines(log: Path, task_id: str, timeout: float = 10) -> list[dict]:
    """The worker's JSON lines that mention the task, once Celery's own outcome line is written."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{") and task_id in x]
        if any("succeeded" in line["message"] for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        wanted = all(f'{k}="{v}"' in line for k, v in labels.items())
        if re.split(r"[{ ]", line, maxsplit=1)[0] == name and wanted:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in /metrics")


def test_task_log_lines_carry_context_and_metrics_count_it(
    api_url, worker, worker_log, clean_db, dovecot, imap_user
) -> None:
    dovecot.seed_maildir(imap_user.username, "INBOX", [_mail(n) for n in range(3)])
    caller = make_caller()
    data = imap_user.account_data()
    with session_scope(caller.tenant_id) as session:
        account_id = create_account(session, get_secret_box(), caller.tenant_id, caller.user_id, data).id
    task_id = f"obs-{time.time_ns()}"
    publish_task(
        "sync_emails",
        task_id,
        caller.tenant_id,
        caller.user_id,
        {"email_client_id": account_id},
    )

    lines = _task_lines(worker_log, task_id)
    succeeded = [line for line in lines if "succeeded" in line["message"]]
    assert succeeded, lines
    inside = [line for line in lines if line.get("task_id") == task_id]
    assert succeeded[0] in inside  # Celery's own outcome line, emitted outside TenantTask.__call__
    for line in inside:
        assert (line["tenant_id"], line["user_id"]) == (caller.tenant_id, caller.user_id), line
        assert line["account_id"] == account_id, line

    urllib.request.urlopen(f"{api_url}/healthz", timeout=10).close()
    with urllib.request.urlopen(f"{api_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    sync_task = "email_service.tasks.sync_emails"
    assert _metric(text, "email_service_tasks_total", task=sync_task, state="success") >= 1
    assert _metric(text, "email_service_sync_messages_total", kind="synced") >= 3
    assert _metric(text, "email_service_queue_length", queue="sync") >= 0
    assert _metric(text, "email_service_worker_metrics_up") == 1
    # gunicorn runs the API in Prometheus multiprocess mode: the sample comes from the shared directory.
    assert _metric(text, "api_requests_total", endpoint="/healthz", status="200") >= 1
