"""API load benchmark: task status and message list under gunicorn vs a bare Flask endpoint; one JSON line.

    python bench/api_bench.py [--seconds 10] [--connections 16] [--messages 500]

Both apps run with the production gunicorn settings (`-c python:email_service.gunicorn_conf`, as
`make run`), one after the other so they never share the CPU, against a throw-away PostgreSQL database
(or DATABASE_URL) and a private Redis (or REDIS_URL). Targets (issue 9): task status reaches >= 0.5 of
the bare throughput, p99 <= 50 ms at 16 connections, no errors.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_env import bench_servers  # noqa: E402
from http_load import run_load  # noqa: E402

from tests.servers.processes import wait_http  # noqa: E402
from tests.servers.redis_server import free_port  # noqa: E402

BIN = Path(sys.executable).parent
BENCH_ENV = {
    "APP_ENV": "test",
    "JWT_SECRET": "bench-secret-" + "x" * 40,
    "ENCRYPTION_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "LOG_LEVEL": "INFO",
}


def seed(messages: int) -> tuple[str, str, str]:
    """A user, an account, an INBOX of `messages` rows and a finished sync task: (token, account, task)."""
    from email_service.accounts.service import create_account
    from email_service.core.config import get_settings
    from email_service.core.crypto import get_secret_box
    from email_service.core.db import session_scope
    from email_service.core.tasking.records import record_task
    from email_service.core.tenancy.identity import ensure_tenant_user
    from email_service.core.tenancy.tokens import issue_token
    from email_service.messages.folder_model import Folder
    from email_service.tasks.celery_app import celery_app

    tenant, user = f"bench-t-{os.getpid()}", f"bench-u-{os.getpid()}"
    with session_scope(system=True) as session:
        ensure_tenant_user(session, tenant, user, f"{user}@example.test")
    data = {
        "email_address": "bench@example.test",
        "imap_host": "127.0.0.1",
        "imap_port": 143,
        "imap_security": "none",
        "smtp_host": "127.0.0.1",
        "smtp_port": 25,
        "smtp_security": "none",
        "username": "bench",
        "password": "bench-password",
    }
    now = datetime.now(UTC)
    with session_scope(tenant) as session:
        account = create_account(session, get_secret_box(), tenant, user, data)
        folder = Folder(tenant_id=tenant, user_id=user, account_id=account.id, name="INBOX", role="inbox")
        session.add(folder)
        session.flush()
        session.add_all(_message(tenant, user, account.id, folder.id, i, now) for i in range(messages))
        task = record_task(session, tenant, user, "sync", account.id)
    result = {"status": "success", "messages_synced": messages, "messages_updated": 0}
    celery_app.backend.store_result(task.task_id, result, "SUCCESS")
    return issue_token(get_settings(), tenant, user), account.id, task.task_id


def _message(tenant: str, user: str, account: str, folder: str, i: int, now: datetime) -> Any:
    from email_service.messages.model import Message

    return Message(
        tenant_id=tenant,
        user_id=user,
        account_id=account,
        folder_id=folder,
        uidvalidity=1,
        uid=i + 1,
        subject=f"Benchmark message {i}",
        from_name=f"Sender {i % 37}",
        from_address=f"sender{i % 37}@example.test",
        to_addresses=[{"name": "Bench", "address": "bench@example.test"}],
        date=now - timedelta(minutes=i),
        date_sort=now - timedelta(minutes=i),
        snippet=f"Hello, this is message {i} of the benchmark mailbox.",
        body_text="body " * 40,
        is_read=i % 3 == 0,
    )


@contextmanager
def gunicorn(app: str, *extra: str) -> Iterator[tuple[int, int]]:
    """Serve `app` with the production gunicorn settings on a free loopback port."""
    port = free_port()
    cmd = [str(BIN / "gunicorn"), "-c", "python:email_service.gunicorn_conf", "-b", f"127.0.0.1:{port}"]
    proc = subprocess.Popen([*cmd, *extra, app], env=dict(os.environ), cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz" if "wsgi" in app else f"http://127.0.0.1:{port}/ping")
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU of gunicorn's workers: a cost per request that other load on the box blurs less."""
    total = 0.0
    for child in psutil.Process(master_pid).children():
        times = child.cpu_times()
        total += times.user + times.system
    return total


def measure(server: tuple[int, int], path: str, headers: dict[str, str], args: argparse.Namespace) -> Any:
    """One untimed warm-up second, then the measured run."""
    port, master_pid = server
    run_load(port, path, headers, args.connections, 1.0)
    cpu_before = server_cpu_seconds(master_pid)
    result = run_load(port, path, headers, args.connections, args.seconds)
    cpu = server_cpu_seconds(master_pid) - cpu_before
    out: dict[str, Any] = result.summary()
    out["server_cpu_ms_per_request"] = round(cpu * 1000 / max(1, len(result.latencies)), 3)
    if result.error_samples:
        out["error_samples"] = result.error_samples[:3]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()
    with bench_servers(env=BENCH_ENV):
        token, account_id, task_id = seed(args.messages)
        auth = {"Authorization": f"Bearer {token}"}
        with gunicorn("bare_app:app", "--pythonpath", str(ROOT / "bench")) as server:
            bare = measure(server, "/ping", {}, args)
        with gunicorn("email_service.wsgi:app") as server:
            task = measure(server, f"/api/tasks/{task_id}", auth, args)
            listing = measure(server, f"/api/email/messages?account_id={account_id}", auth, args)
    report = {
        "connections": args.connections,
        "seconds": args.seconds,
        "messages": args.messages,
        "workers": int(os.environ.get("API_WORKERS", "2")),
        "threads": int(os.environ.get("API_THREADS", "4")),
        "bare": bare,
        "task_status": task,
        "message_list": listing,
        "task_status_ratio": round(task["rps"] / bare["rps"], 3) if bare["rps"] else 0.0,
        "message_list_ratio": round(listing["rps"] / bare["rps"], 3) if bare["rps"] else 0.0,
    }
    report["targets_met"] = (
        report["task_status_ratio"] >= 0.5 and task["p99_ms"] <= 50 and task["errors"] == 0
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
