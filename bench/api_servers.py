"""The API under gunicorn with the production settings, for the benches, and its CPU use."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.processes import wait_http  # noqa: E402
from tests.servers.redis_server import free_port  # noqa: E402

BIN = Path(sys.executable).parent
BENCH_ENV = {
    "APP_ENV": "test",
    "JWT_SECRET": "bench-secret-" + "x" * 40,
    "ENCRYPTION_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "LOG_LEVEL": "INFO",
}


@contextmanager
def gunicorn(app: str, *extra: str) -> Iterator[tuple[int, int]]:
    """Serve `app` with the production gunicorn settings on a free loopback port: (port, master pid)."""
    port = free_port()
    cmd = [str(BIN / "gunicorn"), "-c", "python:email_service.gunicorn_conf", "-b", f"127.0.0.1:{port}"]
    proc = subprocess.Popen([*cmd, *extra, app], env=dict(os.environ), cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz" if "wsgi" in app else f"http://127.0.0.1:{port}/ping")
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def worker_cpu_seconds(master_pid: int) -> dict[int, float]:
    """User + system CPU of each process of the gunicorn tree (master and workers), by pid."""
    master = psutil.Process(master_pid)
    out: dict[int, float] = {}
    for proc in [master, *master.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        out[proc.pid] = times.user + times.system
    return out
