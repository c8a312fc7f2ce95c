"""A dedicated Celery worker process for fault tests: one prefork child that a test may SIGKILL.

Killing the child (not the parent) is what a crash of the task looks like to Celery: the parent sees
WorkerLostError and, with acks_late + task_reject_on_worker_lost, requeues the message at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

BIN = Path(sys.executable).parent


class WorkerProcess:
    """`celery worker -c 1` on the given queues, its log in a file; children() lists the pool."""

    def __init__(self, queues: str, env: dict[str, str], log: Path) -> None:
        self.queues, self.env, self.log = queues, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> WorkerProcess:
        cmd = [
            str(BIN / "celery"), "-A", "email_service.worker", "worker", "-Q", self.queues,
            "-c", "1", "-P", "prefork", "--loglevel", "INFO", "-n", f"rel-{uuid.uuid4().hex[:8]}@%h",
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while b"ready." not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker did not start:\n" + self.tail())
            time.sleep(0.1)
        return self

    def tail(self, size: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-size:]

    def children(self) -> list[int]:
        """Pids of the pool processes (Linux /proc)."""
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill_child(self) -> int:
        """SIGKILL the one pool process, as the OOM killer or a crash would; returns its pid."""
        [pid] = self.children()
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_new_child(self, old: int, timeout: float = 30) -> int:
        """The replacement pool process the parent starts after a child died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = [pid for pid in self.children() if pid != old]
            if fresh:
                return fresh[0]
            time.sleep(0.05)
        raise AssertionError("no replacement pool process:\n" + self.tail())

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
