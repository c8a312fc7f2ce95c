"""A dedicated Celery worker process for fault tests: one prefork child that a test may SIGKILL.

Killing the child (not the parent) is what a crash of the task looks like to Celery: the parent sees
WorkerLostError and, with acks_late + task_reject_on_worker_lost, requeues the message at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from tests.servers.processes import start_worker, stop_process


class WorkerProcess:
    """`celery worker -c 1` on the given queues, its log in a file; children() lists the pool."""

    def __init__(self, queues: str, env: dict[str, str], log: Path) -> None:
        self.queues, self.env, self.log = queues, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> WorkerProcess:
        self.proc = start_worker(
            self.env, self.log, queues=self.queues, concurrency=1, name=f"rel-{uuid.uuid4().hex[:8]}",
            extra=("-P", "prefork", "--without-heartbeat"), timeout=timeout,
        )  # fmt: skip
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
        if self.proc is not None:
            stop_process(self.proc)
