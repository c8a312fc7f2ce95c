"""Push as a frontend sees it: `email-service watch` and a worker as processes, the API over HTTP. Mail
APPENDed to Dovecot shows up in GET /api/email/messages within seconds with nobody calling sync, and
switching push off over the API releases the account's IDLE (its lease) within the 30 s of §7."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis

from email_service.sync.watch.leases import lease_key
from tests.conftest import ServerSet, make_caller
from tests.e2e.http import call, poll_task
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.processes import BIN, stop_process

LISTED_BOUND_SECONDS = 10.0  # generous for a loaded CI machine; bench/push_bench.py measures p50/p99
PICKUP_BOUND_SECONDS = 30.0


def _mail(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Pusher {n} <pusher{n}@example.test>"
    msg["To"] = "me@example.test"
    msg["Subject"] = f"pushed {n}"
    msg["Message-ID"] = f"<push-{n}-{time.time_ns()}@example.test>"
    msg.set_content(f"pushed body {n}")
    return bytes(msg)


@pytest.fixture
def watch_process(servers: ServerSet, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The watcher with its production settings (lease 30 s, poll 10 s, debounce 1 s)."""
    log = tmp_path / "watch.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "email-service"), "watch"],
            env={**os.environ, **servers.env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    yield proc
    stop_process(proc)
    assert proc.returncode == 0, log.read_text(errors="replace")[-3000:]


def _subjects(api_url: str, token: str, account_id: str) -> set[str]:
    status, page = call("GET", f"{api_url}/api/email/messages?account_id={account_id}&limit=50", token)
    assert status == 200, page
    return {m["subject"] for m in page["items"]}


def _until(check: Callable[[], bool], seconds: float, what: str) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"{what}: not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_appended_mail_is_listed_without_a_sync_call_and_push_off_releases_the_idle(
    api_url: str,
    worker: subprocess.Popen[bytes],
    clean_db: None,
    servers: ServerSet,
    imap_user: ImapUser,
    watch_process: subprocess.Popen[bytes],
) -> None:
    owner = make_caller()
    status, account = call("POST", f"{api_url}/api/accounts", owner.token, imap_user.account_data())
    assert status == 201 and account["push_enabled"] is True, account
    status, started = call(
        "POST", f"{api_url}/api/email/sync", owner.token, {"email_client_id": account["id"]}
    )
    assert status == 202
    assert poll_task(api_url, owner.token, started["taskId"])["status"] == "success"
    leases = redis.Redis.from_url(servers.redis_url)
    _until(lambda: leases.get(lease_key(account["id"])) is not None, PICKUP_BOUND_SECONDS, "watcher pickup")
    time.sleep(1)  # the lease comes just before the IDLE: let it start

    waits = []
    for n in range(3):
        imap_user.server.append(imap_user.username, "INBOX", [_mail(n)])
        subject = f"pushed {n}"
        waits.append(
            _until(
                lambda s=subject: s in _subjects(api_url, owner.token, account["id"]),
                LISTED_BOUND_SECONDS,
                "APPEND to listed",
            )
        )
    assert all(w <= LISTED_BOUND_SECONDS for w in waits), waits

    status, patched = call(
        "PATCH", f"{api_url}/api/accounts/{account['id']}", owner.token, {"push_enabled": False}
    )
    assert status == 200 and patched["push_enabled"] is False, patched
    _until(lambda: leases.get(lease_key(account["id"])) is None, PICKUP_BOUND_SECONDS, "push off released")
    assert watch_process.poll() is None
