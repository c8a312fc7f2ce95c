"""periodic_sync tick benchmark: N due accounts across many tenants in PostgreSQL; one JSON line out.

    python bench/periodic_bench.py --accounts 10000 --tenants 500 --runs 3

Uses a throw-away PostgreSQL database (like the tests) and a private Redis broker. Each run re-arms
every account as due, empties the `sync` queue and times the real tick `dispatch_due_syncs(publish_syncs)`:
the claim (one SELECT … FOR UPDATE SKIP LOCKED plus the bulk writes; `select_seconds`) and the
publishing (`publish_seconds`) apart.
Figures are medians over the runs; the target is a tick ≤ 2 s for 10,000 accounts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_env import bench_servers


def seed(admin_url: str, accounts: int, tenants: int) -> None:
    """Bulk-insert tenants, one user each, and `accounts` sync-enabled accounts spread over them."""
    import psycopg

    cipher = "bench-unused"  # the tick never decrypts: it publishes ids only
    with psycopg.connect(admin_url) as conn, conn.cursor() as cur:
        with cur.copy("COPY tenants (id, name, settings, created_at, updated_at) FROM STDIN") as copy:
            for t in range(tenants):
                copy.write_row((f"bt{t}", f"tenant {t}", "{}", "now", "now"))
        cols = "id, tenant_id, email, name, settings, created_at, updated_at"
        with cur.copy(f"COPY users ({cols}) FROM STDIN") as copy:
            for t in range(tenants):
                copy.write_row((f"bu{t}", f"bt{t}", f"u{t}@example.test", "", "{}", "now", "now"))
        cols = (
            "id, tenant_id, user_id, email_address, display_name, imap_host, imap_port, imap_security,"
            " smtp_host, smtp_port, smtp_security, username, secret_ciphertext, is_sync_enabled,"
            " sync_interval, state, auth_error_notified, provider_saves_sent, move_spam_to_junk,"
            " created_at, updated_at"
        )
        with cur.copy(f"COPY email_accounts ({cols}) FROM STDIN") as copy:
            for a in range(accounts):
                t = a % tenants
                imap = ("127.0.0.1", 1143, "none")
                smtp = ("127.0.0.1", 1025, "none")
                flags = (True, 300, "active", False, False, False, "now", "now")
                row = (f"ba{a:06d}", f"bt{t}", f"bu{t}", f"a{a}@example.test", "", *imap, *smtp)
                copy.write_row((*row, f"a{a}", cipher, *flags))


def rearm(admin_url: str) -> None:
    """Make every account due again and drop the previous run's task records."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("UPDATE email_accounts SET next_sync_at = NULL")
        conn.execute("TRUNCATE task_records")
        conn.execute("VACUUM ANALYZE email_accounts")


def raw_lpush(client: Any, payloads: list[Any]) -> float:
    """The floor in the same run: the same payloads LPUSHed by redis-py in 1000-command pipelines."""
    start = time.perf_counter()
    with client.pipeline(transaction=False) as pipe:
        for index, payload in enumerate(payloads, 1):
            pipe.lpush("bench-raw", payload)
            if index % 1000 == 0:
                pipe.execute()
        pipe.execute()
    elapsed = time.perf_counter() - start
    client.delete("bench-raw")
    return elapsed


def one_run(redis_url: str) -> dict[str, float]:
    """The real tick; publishing is timed through the publish callable, the claim is the rest."""
    import redis

    from email_service.core.tasking.bulk_publish import publish_syncs
    from email_service.ops.scheduling import SyncDispatch, dispatch_due_syncs

    client = redis.Redis.from_url(redis_url)
    client.delete("sync")
    publish_time: list[float] = []

    def timed_publish(dispatches: list[SyncDispatch]) -> None:
        start = time.perf_counter()
        publish_syncs(dispatches)
        publish_time.append(time.perf_counter() - start)

    start = time.perf_counter()
    report = dispatch_due_syncs(timed_publish)
    tick = time.perf_counter() - start
    publish = sum(publish_time)
    return {
        "raw_lpush_seconds": raw_lpush(client, client.lrange("sync", 0, -1)),
        "tick_seconds": tick,
        "select_seconds": tick - publish,
        "publish_seconds": publish,
        "dispatched": report.dispatched,
        "queue_length_after": int(client.llen("sync")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with bench_servers(private=True, env={"LOG_LEVEL": "WARNING"}) as servers:
        pg = servers.pg
        assert pg is not None
        seed(pg.admin_url, args.accounts, args.tenants)
        runs = []
        for _ in range(args.runs):
            rearm(pg.admin_url)
            runs.append(one_run(servers.redis_url))
        out: dict[str, Any] = {"accounts": args.accounts, "tenants": args.tenants, "runs": args.runs}
        for name in ("tick_seconds", "select_seconds", "publish_seconds", "raw_lpush_seconds"):
            out[name] = round(statistics.median(r[name] for r in runs), 3)
        out["dispatched"] = min(int(r["dispatched"]) for r in runs)
        out["queue_length_after"] = min(int(r["queue_length_after"]) for r in runs)
        out["target_seconds"] = 2.0
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
