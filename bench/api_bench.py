"""API load benchmark on wrk: each read path beside a fresh bare-Flask run; one JSON line.

    python bench/api_bench.py [--seconds 10] [--connections 16] [--messages 2000] [--runs 5]
                              [--paths task_status,message_list,search,message_get]

The API and a bare Flask JSON endpoint (bench/bare_app.py) both run under the production gunicorn
settings (`-c python:email_service.gunicorn_conf`, as `make run`) against a throw-away PostgreSQL
database and a private Redis (or DATABASE_URL / REDIS_URL). The machine's own capacity swings between
runs, so every path is measured right after a bare run of its own (neither server runs a request
while the other is measured) and its ratio is path/bare of those two adjacent runs; with `--runs N`
the report gives medians over N such pairs. Server CPU per request is psutil's user + system time of
the whole gunicorn tree over the run, divided by the requests served.

Paths: `task_status` GET /api/tasks/<id> (a finished sync whose result is in the result backend but
not yet in its record: the costliest poll, a Redis read and a fresh record lookup); `task_running`
the same for a sync in progress (what a polling frontend mostly asks: one Redis read);
`message_list` GET /api/email/messages (50 rows); `search` the same with q= (full text, rotating
over a few queries); `message_get` GET /api/email/messages/<id> (rotating over 1,000 ids). The
mailbox is `--messages` mail-like rows written with COPY (bench/search_bench.py's generator; the
search triggers fire). Targets (issue 21, 16 connections, medians of 5): task status >= 0.6x bare, list and
get >= 0.3x, search >= 0.15x (on 100,000 messages), p99 <= 25 ms, no errors; CPU per request <= 1.5x
bare's for task status, <= 3x for the list.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_servers import BENCH_ENV, gunicorn, worker_cpu_seconds  # noqa: E402
from bench_env import bench_servers  # noqa: E402
from wrk_load import run_wrk  # noqa: E402

SEARCHES = ["invoice", "meeting", '"quarterly report"', "from:olivia.brown", "project deadline"]
TARGET_RATIO = {
    "task_status": 0.6,
    "task_running": 0.6,
    "message_list": 0.3,
    "message_get": 0.3,
    "search": 0.15,
}
TARGET_CPU_RATIO = {"task_status": 1.5, "task_running": 1.5, "message_list": 3.0}
P99_TARGET_MS = 25.0


def seed(messages: int) -> dict[str, Any]:
    """One user's INBOX of `messages` rows and a finished sync task: token and the ids to request."""
    import psycopg
    from search_bench import MailFactory, _full_rows, _owner_rows, _write_postgresql
    from sqlalchemy.engine import make_url

    from email_service.core.config import get_settings
    from email_service.core.db import session_scope
    from email_service.core.tasking.records import record_task
    from email_service.core.tenancy.tokens import issue_token
    from email_service.tasks.celery_app import celery_app

    tenant, user = f"bench-t-{os.getpid()}", f"bench-u-{os.getpid()}"
    account_id, folder_id = _owner_rows(tenant, user, "bench@corp.example")
    owner = {"tenant_id": tenant, "user_id": user, "account_id": account_id, "folder_id": folder_id}
    factory, newest = MailFactory(), datetime(2026, 11, 30, tzinfo=UTC)
    step = timedelta(days=3 * 365) / max(1, messages)
    rows = [factory.message(i, newest - step * i) for i in range(messages)]
    url = make_url(get_settings().migration_database_url).set(drivername="postgresql")
    admin_url = url.render_as_string(hide_password=False)
    _write_postgresql(admin_url, _full_rows(owner, rows))
    with psycopg.connect(admin_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM messages WHERE user_id = %s LIMIT 1000", (user,))]
    with session_scope(tenant) as session:
        task = record_task(session, tenant, user, "sync", account_id)
        running = record_task(session, tenant, user, "sync", account_id)
    result = {"status": "success", "messages_synced": messages, "messages_updated": 0}
    celery_app.backend.store_result(task.task_id, result, "SUCCESS")
    celery_app.backend.store_result(running.task_id, {"done": 40, "total": 100}, "PROGRESS")
    token = issue_token(get_settings(), tenant, user)
    return {
        "token": token,
        "account_id": account_id,
        "task_id": task.task_id,
        "running_task_id": running.task_id,
        "message_ids": ids,
    }


def path_lists(seeded: dict[str, Any]) -> dict[str, list[str]]:
    listing = f"/api/email/messages?account_id={seeded['account_id']}&limit=50"
    return {
        "task_status": [f"/api/tasks/{seeded['task_id']}"],
        "task_running": [f"/api/tasks/{seeded['running_task_id']}"],
        "message_list": [listing],
        "search": [f"{listing}&q={quote(q)}" for q in SEARCHES],
        "message_get": [f"/api/email/messages/{i}" for i in seeded["message_ids"]],
    }


def measure(server: tuple[int, int], paths: list[str], headers: dict[str, str], args: Any) -> dict[str, Any]:
    """One untimed warm-up second, then the measured run with the server tree's CPU around it."""
    port, master_pid = server
    run_wrk(port, paths, headers, args.connections, 1.0, args.wrk_threads)
    before = worker_cpu_seconds(master_pid)
    out = run_wrk(port, paths, headers, args.connections, args.seconds, args.wrk_threads)
    after = worker_cpu_seconds(master_pid)
    used = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    out["server_cpu_ms_per_request"] = round(sum(used.values()) * 1000 / max(1, out["requests"]), 3)
    # How the load split over the processes: one worker doing most of the work is a lost core.
    out["cpu_split"] = sorted((round(v, 2) for v in used.values() if v > 0.05), reverse=True)
    return out


def summarise(name: str, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """Medians over the adjacent (bare, path) pairs, and the worst p99 and total errors."""
    ratios = [p["rps"] / b["rps"] if b["rps"] else 0.0 for b, p in pairs]
    key = "server_cpu_ms_per_request"
    cpu = [p[key] / b[key] if b[key] else 0.0 for b, p in pairs]
    paths = [p for _, p in pairs]
    out = {
        "ratio": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
        "rps": round(statistics.median(p["rps"] for p in paths), 1),
        "bare_rps": round(statistics.median(b["rps"] for b, _ in pairs), 1),
        "p50_ms": round(statistics.median(p["p50_ms"] for p in paths), 2),
        "p99_ms": round(statistics.median(p["p99_ms"] for p in paths), 2),
        "p99_ms_worst": max(p["p99_ms"] for p in paths),
        "errors": sum(p["errors"] for p in paths),
        "cpu_ms_per_request": round(statistics.median(p["server_cpu_ms_per_request"] for p in paths), 3),
        "bare_cpu_ms_per_request": round(
            statistics.median(b["server_cpu_ms_per_request"] for b, _ in pairs), 3
        ),
        "cpu_ratio": round(statistics.median(cpu), 2),
        "cpu_split": [p["cpu_split"] for p in paths],
    }
    met = out["ratio"] >= TARGET_RATIO[name] and out["p99_ms"] <= P99_TARGET_MS and out["errors"] == 0
    if name in TARGET_CPU_RATIO:
        met = met and out["cpu_ratio"] <= TARGET_CPU_RATIO[name]
    out["target_met"] = met
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--paths", default=",".join(TARGET_RATIO))
    args = parser.parse_args()
    names = [n for n in args.paths.split(",") if n]
    with bench_servers(env={**BENCH_ENV, "LOG_LEVEL": "WARNING"}):
        seeded = seed(args.messages)
        auth = {"Authorization": f"Bearer {seeded['token']}"}
        lists = path_lists(seeded)
        pairs: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {n: [] for n in names}
        bare_app = ("bare_app:app", "--pythonpath", str(ROOT / "bench"))
        with gunicorn(*bare_app) as bare, gunicorn("email_service.wsgi:app") as api:
            for _ in range(args.runs):
                for name in names:
                    bare_run = measure(bare, ["/ping"], {}, args)
                    pairs[name].append((bare_run, measure(api, lists[name], auth, args)))
    report: dict[str, Any] = {
        "tool": "wrk",
        "connections": args.connections,
        "seconds": args.seconds,
        "runs": args.runs,
        "messages": args.messages,
        "workers": int(os.environ.get("API_WORKERS", "2")),
        "threads": int(os.environ.get("API_THREADS", "4")),
        "cpus": os.cpu_count(),
    }
    report.update({name: summarise(name, pairs[name]) for name in names})
    report["targets_met"] = all(report[name]["target_met"] for name in names)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
