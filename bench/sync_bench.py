"""Sync benchmark: N messages of S bytes in a private Dovecot, synced into PostgreSQL; one JSON line out.

    python bench/sync_bench.py --messages 10000 --size 5000

Uses DATABASE_URL when it points at PostgreSQL (schema must be migrated), else a throw-away database
like the tests; REDIS_URL, else a private redis-server. With `mbsync` installed it also times mbsync
(FSync no, plain IMAP) on the same mailbox in the same run: after one untimed warm-up of each, the two
alternate --repeat times (fresh tables / fresh Maildir each run); medians and all samples are printed.
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

from bench_env import bench_servers
from imapclient import IMAPClient

from tests.servers.dovecot import DovecotServer

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


def create_account(server: DovecotServer, user: str, password: str) -> tuple[str, str, str]:
    from email_service.accounts.service import create_account as create
    from email_service.core.crypto import get_secret_box
    from email_service.core.db import session_scope
    from email_service.core.tenancy.identity import ensure_tenant_user

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


NEWEST = 100  # "newest 100 listable": the sync's newest-first pass (SyncOptions.newest_first)


def timed_sync(ids: tuple[str, str, str], marks: list[float] | None = None) -> tuple[float, Any]:
    """Seconds for one sync; `marks` gets the time at which the newest NEWEST rows were committed
    (progress is reported after each batch's commit, so they were listable from then on)."""
    from email_service.sync.service import run_account_sync

    start = time.perf_counter()

    def progress(meta: dict[str, Any]) -> None:
        if marks is not None and not marks and meta["done"] >= NEWEST:
            marks.append(time.perf_counter() - start)

    result = run_account_sync(*ids, progress=progress)
    return time.perf_counter() - start, result


def listable(ids: tuple[str, str, str]) -> int:
    """Rows visible to the owner (what the listing API reads)."""
    from sqlalchemy import func, select

    from email_service.core.db import session_scope
    from email_service.messages.model import Message

    account_id, tenant, _owner = ids
    with session_scope(tenant) as session:
        query = select(func.count()).where(Message.account_id == account_id, Message.deleted_at.is_(None))
        return int(session.execute(query).scalar_one())


def change_flags(server: DovecotServer, user: str, password: str, count: int, total: int) -> None:
    with IMAPClient(server.host, server.imap_port, ssl=False) as client:
        client.login(user, password)
        client.select_folder("INBOX")
        client.add_flags(random.Random(3).sample(range(1, total + 1), count), ["\\Seen"])


MBSYNC_CONFIG = """FSync no

IMAPAccount bench
Host {host}
Port {port}
User {user}
Pass {password}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {root}/
Inbox {root}/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
SyncState *
"""


def mbsync_config(server: DovecotServer, user: str, password: str, root: Path | str) -> str:
    return MBSYNC_CONFIG.format(
        host=server.host, port=server.imap_port, user=user, password=password, root=root
    )


def run_mbsync(server: DovecotServer, user: str, password: str) -> float:
    """mbsync into a fresh Maildir; run orphaned (via sh &) so its RSS never counts as our children's."""
    binary = shutil.which("mbsync")
    assert binary is not None
    work = Path(tempfile.mkdtemp(prefix="bench-mbsync-"))
    (work / "mail").mkdir()
    conf = work / "mbsyncrc"
    conf.write_text(mbsync_config(server, user, password, work / "mail"))
    script = '("$0" -q -c "$1" bench >/dev/null 2>&1; echo "rc=$?") &'
    start = time.perf_counter()
    with subprocess.Popen(["sh", "-c", script, binary, str(conf)], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        out = proc.stdout.read()  # EOF once the orphaned subshell (and so mbsync) has exited
    elapsed = time.perf_counter() - start
    shutil.rmtree(work, ignore_errors=True)
    if out.strip() != b"rc=0":
        raise RuntimeError(f"mbsync failed: {out!r}")
    return elapsed


def reset_messages(pg: Any, ids: tuple[str, str, str]) -> None:
    """Fresh tables for the next run: TRUNCATE in our throw-away database, else drop the bench rows."""
    if pg is not None:
        import psycopg

        with psycopg.connect(pg.admin_url, autocommit=True) as conn:
            conn.execute("TRUNCATE attachments, messages")
        return
    from sqlalchemy import delete

    from email_service.core.db import session_scope
    from email_service.messages.model import Message

    with session_scope(ids[1]) as session:
        session.execute(delete(Message).where(Message.account_id == ids[0]))


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def full_sync(
    server: DovecotServer, user: str, password: str, count: int, newest: list[float] | None = None
) -> tuple[float, tuple[str, str, str]]:
    """One timed initial sync into a new account; every message must be synced and listable.

    `newest` gets the seconds until the newest NEWEST messages were listable."""
    ids = create_account(server, user, password)
    marks: list[float] = []
    seconds, result = timed_sync(ids, marks)
    assert result.messages_synced == count, result
    rows = listable(ids)
    assert rows == count, rows
    if newest is not None:
        newest.append(marks[0] if marks else seconds)
    return seconds, ids


def incremental(server: DovecotServer, user: str, password: str, ids: tuple[str, str, str]) -> dict[str, Any]:
    count = listable(ids)
    nochange = [timed_sync(ids)[0] for _ in range(5)]
    change_flags(server, user, password, 100, count)
    flags, flag_result = timed_sync(ids)
    return {
        "listable_rows": count,
        "nochange_resync_seconds": round(statistics.median(nochange), 4),
        "flag_changes_100_seconds": round(flags, 4),
        "flag_changes_updated": flag_result.messages_updated,
    }


def compare(server: DovecotServer, pg: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Warm-up run of each (Dovecot index/cache and page cache equally warm), then alternate N times."""
    user, password, count = "bench", "bench-password", args.messages
    has_mbsync = shutil.which("mbsync") is not None
    ours: list[float] = []
    theirs: list[float] = []
    first: list[float] = []
    _, ids = full_sync(server, user, password, count)  # warm-up, untimed
    if has_mbsync:
        run_mbsync(server, user, password)
    for i in range(args.repeat):
        reset_messages(pg, ids)
        if has_mbsync and i % 2 == 1:  # alternate who goes first, so drift hits both alike
            theirs.append(run_mbsync(server, user, password))
        seconds, ids = full_sync(server, user, password, count, first)
        ours.append(seconds)
        if has_mbsync and i % 2 == 0:
            theirs.append(run_mbsync(server, user, password))
    out: dict[str, Any] = {
        "full_sync_seconds": round(statistics.median(ours), 3),
        "full_sync_samples": [round(x, 3) for x in ours],
        f"newest_{NEWEST}_listable_seconds": round(statistics.median(first), 3),
        f"newest_{NEWEST}_listable_samples": [round(x, 3) for x in first],
    }
    out.update(incremental(server, user, password, ids))
    out["peak_rss_mb"] = round(max(rss_mb(resource.RUSAGE_SELF), rss_mb(resource.RUSAGE_CHILDREN)), 1)
    if has_mbsync:
        out["mbsync_seconds"] = round(statistics.median(theirs), 3)
        out["mbsync_samples"] = [round(x, 3) for x in theirs]
        out["ratio"] = round(out["full_sync_seconds"] / out["mbsync_seconds"], 3)
        out["ratio_samples"] = [round(a / b, 3) for a, b in zip(ours, theirs, strict=True)]
        out["mbsync_config"] = mbsync_config(server, user, "***", "MAILDIR")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, alternating")
    args = parser.parse_args()
    with bench_servers(env={"LOG_LEVEL": "WARNING"}) as servers:
        server = DovecotServer().start()
        try:
            server.add_user("bench", "bench-password")
            server.seed_maildir("bench", "INBOX", make_messages(args.messages, args.size))
            with IMAPClient(
                server.host, server.imap_port, ssl=False
            ) as client:  # build Dovecot's index first
                client.login("bench", "bench-password")
                client.select_folder("INBOX")
            out: dict[str, Any] = {"messages": args.messages, "size": args.size, "repeat": args.repeat}
            out.update(compare(server, servers.pg, args))
            print(json.dumps(out))
        finally:
            server.close()


if __name__ == "__main__":
    main()
