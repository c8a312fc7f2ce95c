"""Sync benchmark: N messages of S bytes in a private Dovecot, synced into PostgreSQL; one JSON line out.

    python bench/sync_bench.py --messages 10000 --size 5000

Uses DATABASE_URL when it points at PostgreSQL (schema must be migrated), else a throw-away database
like the tests; REDIS_URL, else a private redis-server. With `mbsync` installed it also times mbsync
(FSync no, plain IMAP) on the same mailbox in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imapclient import IMAPClient

from tests.servers.dovecot import DovecotServer
from tests.servers.postgres import create_test_database, drop_test_database
from tests.servers.redis_server import RedisServer

WORDS = ("alpha", "beta", "gamma", "delta", "sync", "mailbox", "folder", "message", "invoice", "report")


def make_messages(count: int, size: int) -> Iterator[bytes]:
    """Plain-text messages of about `size` bytes with CRLF endings (generated lazily: low memory)."""
    rng = random.Random(7)
    for i in range(1, count + 1):
        head = (
            f"From: Sender {i % 97} <sender{i % 97}@example.test>\r\nTo: Bench <bench@example.test>\r\n"
            f"Subject: Benchmark message {i} {rng.choice(WORDS)}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
            f"Message-ID: <bench{i}@example.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        ).encode()
        lines: list[bytes] = []
        length = len(head)
        while length < size:
            line = (" ".join(rng.choice(WORDS) for _ in range(10)) + "\r\n").encode()
            lines.append(line)
            length += len(line)
        yield (head + b"".join(lines))[: max(size, len(head))]


def setup_environment() -> tuple[Any, Any]:
    """Point the settings at PostgreSQL and Redis (temporary ones unless configured)."""
    pg = redis = None
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        pg = create_test_database()
        os.environ["DATABASE_URL"] = pg.app_url
        os.environ["MIGRATION_DATABASE_URL"] = pg.admin_url
    if not os.environ.get("REDIS_URL"):
        redis = RedisServer().start()
        os.environ["REDIS_URL"] = redis.url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if pg is not None:
        from email_service.migrate import upgrade

        upgrade()
    return pg, redis


def create_account(server: DovecotServer, user: str, password: str) -> tuple[str, str, str]:
    from email_service.crypto import get_secret_box
    from email_service.db import session_scope
    from email_service.services.accounts import create_account as create
    from email_service.services.identity import ensure_tenant_user

    tenant, owner = f"bench-{os.getpid()}-{int(time.time())}", f"bench-user-{os.getpid()}-{int(time.time())}"
    with session_scope(system=True) as session:
        ensure_tenant_user(session, tenant, owner)
    data = {
        "email_address": f"{user}@example.test",
        "imap_host": server.host,
        "imap_port": server.imap_port,
        "imap_security": "none",
        "smtp_host": server.host,
        "smtp_port": 25,
        "smtp_security": "none",
        "username": user,
        "password": password,
    }
    with session_scope(tenant) as session:
        return create(session, get_secret_box(), tenant, owner, data).id, tenant, owner


def timed_sync(ids: tuple[str, str, str]) -> tuple[float, Any]:
    from email_service.services.sync_service import run_account_sync

    start = time.perf_counter()
    result = run_account_sync(*ids)
    return time.perf_counter() - start, result


def listable(ids: tuple[str, str, str]) -> int:
    """Rows visible to the owner (what the listing API reads)."""
    from sqlalchemy import func, select

    from email_service.db import session_scope
    from email_service.models import Message

    account_id, tenant, _owner = ids
    with session_scope(tenant) as session:
        query = select(func.count()).where(Message.account_id == account_id, Message.deleted_at.is_(None))
        return int(session.execute(query).scalar_one())


def change_flags(server: DovecotServer, user: str, password: str, count: int, total: int) -> None:
    with IMAPClient(server.host, server.imap_port, ssl=False) as client:
        client.login(user, password)
        client.select_folder("INBOX")
        client.add_flags(random.Random(3).sample(range(1, total + 1), count), ["\\Seen"])


def run_mbsync(server: DovecotServer, user: str, password: str) -> float | None:
    binary = shutil.which("mbsync")
    if binary is None:
        return None
    work = Path(tempfile.mkdtemp(prefix="bench-mbsync-"))
    (work / "mail").mkdir()
    conf = work / "mbsyncrc"
    conf.write_text(
        f"FSync no\n\nIMAPAccount bench\nHost {server.host}\nPort {server.imap_port}\nUser {user}\n"
        f"Pass {password}\nSSLType None\nAuthMechs LOGIN\n\nIMAPStore remote\nAccount bench\n\n"
        f"MaildirStore local\nPath {work}/mail/\nInbox {work}/mail/INBOX\n\n"
        "Channel bench\nFar :remote:\nNear :local:\nPatterns INBOX\nCreate Near\nSyncState *\n"
    )
    start = time.perf_counter()
    subprocess.run([binary, "-q", "-c", str(conf), "bench"], check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    shutil.rmtree(work, ignore_errors=True)
    return elapsed


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def measure(server: DovecotServer, user: str, password: str, count: int) -> dict[str, Any]:
    ids = create_account(server, user, password)
    full, result = timed_sync(ids)
    assert result.messages_synced == count, result
    full_listable = listable(ids)
    nochange = [timed_sync(ids)[0] for _ in range(5)]
    change_flags(server, user, password, 100, count)
    flags, flag_result = timed_sync(ids)
    return {
        "full_sync_seconds": round(full, 3),
        "listable_rows": full_listable,
        "nochange_resync_seconds": round(statistics.median(nochange), 4),
        "flag_changes_100_seconds": round(flags, 4),
        "flag_changes_updated": flag_result.messages_updated,
        "peak_rss_mb": round(max(rss_mb(resource.RUSAGE_SELF), rss_mb(resource.RUSAGE_CHILDREN)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--size", type=int, default=5000)
    args = parser.parse_args()
    pg, redis = setup_environment()
    server = DovecotServer().start()
    try:
        user, password = "bench", "bench-password"
        server.add_user(user, password)
        server.seed_maildir(user, "INBOX", make_messages(args.messages, args.size))
        with IMAPClient(server.host, server.imap_port, ssl=False) as client:  # build Dovecot's index first
            client.login(user, password)
            client.select_folder("INBOX")
        out: dict[str, Any] = {"messages": args.messages, "size": args.size}
        out.update(measure(server, user, password, args.messages))
        mbsync = run_mbsync(server, user, password)
        if mbsync is not None:
            out["mbsync_seconds"] = round(mbsync, 3)
            out["ratio"] = round(out["full_sync_seconds"] / mbsync, 3)
        print(json.dumps(out))
    finally:
        server.close()
        if redis is not None:
            redis.cleanup()
        if pg is not None:
            from email_service.db import dispose_engine

            dispose_engine()
            drop_test_database(pg)


if __name__ == "__main__":
    main()
