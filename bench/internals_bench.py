"""Each speed-up that reaches into a library's internals against the plain library path, in one run.

    python bench/internals_bench.py [--messages 10000] [--size 5000] [--rounds 3] [--lookups 400]

Prints one JSON object: every sample, the medians, and a verdict per speed-up ("keep" when the
internal path is at least KEEP_RATIO times faster than the public one, else "remove"). The two paths
of a pair alternate round by round, so shared-machine noise hits both alike.

- imap_wire: our wire parser (ImapSession.fetch_messages on imaplib's socket, imapclient's `_imap`)
  against imapclient's own fetch(), both over the same 500-UID ranges of a private Dovecot.
- db_fetch_one_scoped: RLS setting + SELECT as one simple-protocol query on the raw psycopg connection
  (client-side mogrify, psycopg.generators) against the same SELECT through session_scope.
- db_begin_with_scope: BEGIN + set_config in one simple query (the former db._begin_with_scope,
  re-created here on psycopg) against psycopg's own BEGIN followed by the set_config SELECT; kept
  only if it also saves MIN_SHARE of a session_scope lookup (it saves one loopback round trip).
- parse_pool: BatchParser with a forked process pool against inline parsing, on in-memory messages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_env import bench_servers
from sync_bench import make_messages

KEEP_RATIO = 1.2
# A speed-up of one step must also save this share of the whole path it sits in (db_begin_with_scope).
MIN_SHARE = 0.15
CHUNK = 500


def alternate(a: Callable[[], float], b: Callable[[], float], rounds: int) -> tuple[list[float], list[float]]:
    """One untimed warm-up of each, then a, b, a, b ...; each callable returns its own timing."""
    a()
    b()
    first, second = [], []
    for _ in range(rounds):
        first.append(a())
        second.append(b())
    return first, second


def verdict(internal: list[float], public: list[float], unit: str) -> dict[str, Any]:
    fast, plain = statistics.median(internal), statistics.median(public)
    ratio = plain / fast
    return {
        "unit": unit,
        "internal_samples": [round(x, 6) for x in internal],
        "public_samples": [round(x, 6) for x in public],
        "internal_median": round(fast, 6),
        "public_median": round(plain, 6),
        "speedup": round(ratio, 2),
        "verdict": "keep" if ratio >= KEEP_RATIO else "remove",
    }


def bench_imap_wire(count: int, size: int, rounds: int) -> dict[str, Any]:
    from imapclient import IMAPClient

    from email_service.mail.imap.client import ImapSettings, connect
    from tests.servers.dovecot import DovecotServer

    with DovecotServer() as server:
        server.add_user("bench", "pw")
        server.seed_maildir("bench", "INBOX", make_messages(count, size))
        settings = ImapSettings(server.host, server.imap_port, "none", "bench", "pw", timeout=120)
        ranges = [(lo, min(lo + CHUNK - 1, count)) for lo in range(1, count + 1, CHUNK)]

        def ours() -> float:
            with connect(settings) as imap:
                imap.select("INBOX")
                start = time.perf_counter()
                got = sum(len(m.raw) for lo, hi in ranges for m in imap.fetch_messages(f"{lo}:{hi}"))
                took = time.perf_counter() - start
            assert got >= count * size * 0.9, got
            return took

        def imapclient_fetch() -> float:
            items = ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "BODY.PEEK[]", "MODSEQ"]
            with IMAPClient(server.host, server.imap_port, ssl=False, timeout=120) as client:
                client.login("bench", "pw")
                client.enable("CONDSTORE")
                client.select_folder("INBOX", readonly=True)
                start = time.perf_counter()
                got = 0
                for lo, hi in ranges:
                    got += sum(
                        len(d[b"BODY[]"]) for d in client.fetch(list(range(lo, hi + 1)), items).values()
                    )
                took = time.perf_counter() - start
            assert got >= count * size * 0.9, got
            return took

        internal, public = alternate(ours, imapclient_fetch, rounds)
    return {"messages": count, "size": size, **verdict(internal, public, "s")}


def _tenant_with_task() -> tuple[str, dict[str, str]]:
    from email_service.core.db import session_scope
    from email_service.core.tasking.records import record_task
    from email_service.core.tenancy.identity import ensure_tenant_user

    tenant, user = f"bench-t-{time.time_ns()}", f"bench-u-{time.time_ns()}"
    with session_scope(system=True) as session:
        ensure_tenant_user(session, tenant, user)
    with session_scope(tenant) as session:
        task_id = record_task(session, tenant, user, "sync").task_id
    return tenant, {"task_id": task_id, "tenant_id": tenant, "user_id": user}


def bench_fetch_one_scoped(lookups: int, rounds: int) -> dict[str, Any]:
    from email_service.core.db import fetch_one_scoped, session_scope
    from email_service.core.tasking.records import _OWNED_TASK

    tenant, params = _tenant_with_task()

    def raw() -> float:
        start = time.perf_counter()
        for _ in range(lookups):
            assert fetch_one_scoped(tenant, _OWNED_TASK, params) is not None
        return (time.perf_counter() - start) / lookups * 1e6

    def orm() -> float:
        start = time.perf_counter()
        for _ in range(lookups):
            with session_scope(tenant) as session:
                assert session.execute(_OWNED_TASK, params).first() is not None
        return (time.perf_counter() - start) / lookups * 1e6

    internal, public = alternate(raw, orm, rounds)
    return {"lookups_per_sample": lookups, **verdict(internal, public, "us per lookup")}


def bench_begin_with_scope(lookups: int, rounds: int) -> dict[str, Any]:
    import psycopg
    from psycopg import pq, sql
    from psycopg.generators import execute as pq_execute

    from email_service.core.config import get_settings
    from email_service.core.db import SCOPE_SQL

    url = get_settings().database_url.replace("postgresql+psycopg://", "postgresql://")
    tenant = "bench-tenant"
    with psycopg.connect(url) as conn:
        scope = sql.SQL(SCOPE_SQL).format(sql.Literal(tenant)).as_bytes(conn)

        def one_trip() -> float:
            start = time.perf_counter()
            for _ in range(lookups):
                with conn.lock:
                    conn.pgconn.send_query(b"BEGIN; " + scope)
                    results = conn.wait(pq_execute(conn.pgconn))
                assert all(
                    r.status == pq.ExecStatus.TUPLES_OK or r.status == pq.ExecStatus.COMMAND_OK
                    for r in results
                )
                conn.execute("SELECT 1").fetchone()
                conn.commit()
            return (time.perf_counter() - start) / lookups * 1e6

        def plain() -> float:
            start = time.perf_counter()
            for _ in range(lookups):
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant,))
                conn.execute("SELECT 1").fetchone()
                conn.commit()
            return (time.perf_counter() - start) / lookups * 1e6

        internal, public = alternate(one_trip, plain, rounds)
    return {"transactions_per_sample": lookups, **verdict(internal, public, "us per transaction")}


def bench_parse_pool(count: int, size: int, rounds: int) -> dict[str, Any]:
    from email_service.mail.imap.types import FetchedMessage
    from email_service.sync.pipeline import BatchParser, default_workers
    from email_service.sync.rows import RowContext

    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    messages = [
        FetchedMessage(i, (), None, stamp, len(raw), raw)
        for i, raw in enumerate(make_messages(count, size), 1)
    ]
    ctx = RowContext("t", "u", "a", "f", 1, json_as_text=True)
    workers = default_workers()

    def run(n: int) -> float:
        batches = [
            messages[i : i + CHUNK] for i in range(0, len(messages), CHUNK)
        ]  # fresh lists: parse clears them
        start = time.perf_counter()
        with BatchParser(n) as parser:
            rows = sum(len(built.messages) for built in parser.parse(ctx, batches))
        took = time.perf_counter() - start
        assert rows == count, rows
        return took

    internal, public = alternate(lambda: run(workers), lambda: run(0), rounds)
    return {"messages": count, "size": size, "workers": workers, **verdict(internal, public, "s")}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lookups", type=int, default=400)
    args = parser.parse_args()
    started = time.perf_counter()
    out: dict[str, Any] = {"keep_ratio": KEEP_RATIO, "min_share": MIN_SHARE}
    out["imap_wire"] = bench_imap_wire(args.messages, args.size, args.rounds)
    out["parse_pool"] = bench_parse_pool(args.messages, args.size, args.rounds)
    with bench_servers():
        out["db_fetch_one_scoped"] = bench_fetch_one_scoped(args.lookups, args.rounds)
        begin = out["db_begin_with_scope"] = bench_begin_with_scope(args.lookups, args.rounds)
        # What it saves on the path it would sit in: every session transaction (the ORM lookup above).
        saved = begin["public_median"] - begin["internal_median"]
        begin["saved_us_per_transaction"] = round(saved, 1)
        begin["share_of_session_lookup"] = round(saved / out["db_fetch_one_scoped"]["public_median"], 3)
        if begin["share_of_session_lookup"] < MIN_SHARE:
            begin["verdict"] = "remove"
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
