"""Cost of the recent-flags window: a no-change resync of a 10k folder without CONDSTORE; one JSON line out.

    python bench/flags_window_bench.py --messages 10000 --window 1000 --repeat 7

A private Dovecot with CONDSTORE taken out of `imap_capability`, seeded with N messages and synced once.
Then no-change resyncs alternate between window 0 (STATUS proves nothing changed: the folder is skipped,
as before the window existed) and the window (SELECT + FLAGS of the newest messages compared), with the
30-minute full scan (forced) as the reference for what a window-less product needed to see the same
change. Finally a few flags on recent mail are changed and one windowed sync must see them.
Database: DATABASE_URL when it is PostgreSQL, else a throw-away one (see bench_env); medians and samples.
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
from imapclient import IMAPClient
from sync_bench import create_account, make_messages

from tests.servers.dovecot import NO_CONDSTORE, DovecotServer

USER, PASSWORD = "bench", "bench-password"


def timed(ids: tuple[str, str, str], window: int, full: bool = False) -> tuple[float, Any]:
    from email_service.sync.plan import SyncOptions
    from email_service.sync.service import run_account_sync

    options = SyncOptions(recent_flags_window=window, force_full_sync=full)
    start = time.perf_counter()
    result = run_account_sync(*ids, options=options)
    return time.perf_counter() - start, result


def flag_recent(server: DovecotServer, count: int, newest: int) -> None:
    """\\Flagged on `count` of the newest messages, by another client."""
    with IMAPClient(server.host, server.imap_port, ssl=False) as client:
        client.login(USER, PASSWORD)
        client.select_folder("INBOX")
        client.add_flags(list(range(newest - count + 1, newest + 1)), ["\\Flagged"])


def median(samples: list[float]) -> float:
    return round(statistics.median(samples), 4)


def measure(server: DovecotServer, args: argparse.Namespace) -> dict[str, Any]:
    ids = create_account(server, USER, PASSWORD)
    first = timed(ids, args.window)[1]
    assert first.messages_synced == args.messages, first
    timed(ids, 0)  # warm-ups, untimed
    timed(ids, args.window)
    without: list[float] = []
    with_window: list[float] = []
    for i in range(args.repeat):  # alternate who goes first, so drift hits both alike
        order = (0, args.window) if i % 2 == 0 else (args.window, 0)
        for window in order:
            seconds, result = timed(ids, window)
            assert result.messages_updated == 0 and result.mirror_mismatch == {}, result
            (without if window == 0 else with_window).append(seconds)
    full = [timed(ids, 0, full=True)[0] for _ in range(max(3, args.repeat // 2))]
    flag_recent(server, args.changes, args.messages)
    seen = timed(ids, args.window)[1].messages_updated
    return {
        "nochange_resync_seconds": {
            "without_window": median(without),
            "with_window": median(with_window),
            "full_scan": median(full),
        },
        "window_overhead_seconds": round(median(with_window) - median(without), 4),
        "samples": {
            "without_window": [round(x, 4) for x in without],
            "with_window": [round(x, 4) for x in with_window],
            "full_scan": [round(x, 4) for x in full],
        },
        "recent_flag_changes": args.changes,
        "recent_flag_changes_seen_by_next_sync": seen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--window", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=10, help="flags changed on recent mail at the end")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each, alternating")
    args = parser.parse_args()
    with bench_servers(env={"LOG_LEVEL": "WARNING"}):
        server = DovecotServer(capabilities=NO_CONDSTORE).start()
        try:
            server.add_user(USER, PASSWORD)
            server.seed_maildir(USER, "INBOX", make_messages(args.messages, args.size))
            with IMAPClient(server.host, server.imap_port, ssl=False) as client:  # build the index first
                client.login(USER, PASSWORD)
                client.select_folder("INBOX")
            out: dict[str, Any] = {
                "bench": "flags_window",
                "capabilities": NO_CONDSTORE,
                "messages": args.messages,
                "size": args.size,
                "window": args.window,
                "repeat": args.repeat,
            }
            out.update(measure(server, args))
            print(json.dumps(out))
        finally:
            server.close()


if __name__ == "__main__":
    main()
