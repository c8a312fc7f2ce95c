"""Starting and stopping the service's own processes (Celery workers, gunicorn) for tests and benches."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from email_service.tasks.celery_app import QUEUES

BIN = Path(sys.executable).parent
# Every queue the app routes to: a worker that skips one leaves its messages waiting forever.
ALL_QUEUES = ",".join(QUEUES)


def wait_http(url: str, timeout: float = 30) -> None:
    """Poll until the URL answers (any status), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """TERM, then KILL if it does not exit in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_worker(
    env: dict[str, str],
    log: Path,
    *,
    queues: str = ALL_QUEUES,
    concurrency: int = 2,
    loglevel: str = "INFO",
    name: str = "",
    extra: tuple[str, ...] = (),
    timeout: float = 60,
) -> subprocess.Popen[bytes]:
    """A real prefork `celery worker` (production settings) writing to `log`; returns once it is ready.

    `name` is the node name before "@host" (unique by default)."""
    cmd = [str(BIN / "celery"), "-A", "email_service.worker", "worker", "-Q", queues,
           "-c", str(concurrency), "-E", "--loglevel", loglevel,
           "-n", f"{name or 'test-' + uuid.uuid4().hex[:8]}@%h",
           "--without-mingle", "--without-gossip", *extra]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            raise RuntimeError("worker did not start:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.1)
    return proc
