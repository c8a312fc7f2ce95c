"""CELERY_WORKER_* and TASK_*TIME_LIMIT reach a real worker started without -c or --loglevel."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.conftest import ServerSet
from tests.servers.processes import BIN, stop_process

TUNED = {
    "TASK_SOFT_TIME_LIMIT": "100",
    "TASK_TIME_LIMIT": "120",
    "CELERY_WORKER_CONCURRENCY": "3",
    "CELERY_WORKER_PREFETCH_MULTIPLIER": "2",
    "CELERY_WORKER_MAX_TASKS_PER_CHILD": "7",
    "CELERY_WORKER_LOGLEVEL": "DEBUG",
    "LOG_LEVEL": "WARNING",
    "LOG_JSON": "false",
}


def _stats(env: dict[str, str], proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    """`celery inspect stats --json` against the worker's own broker, once it answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        out = subprocess.run(
            [str(BIN / "celery"), "-A", "email_service.worker", "inspect", "stats", "-j", "-t", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip().startswith("{"):
            stats: dict[str, Any] = json.loads(out.stdout)
            return stats
        time.sleep(0.5)
    return {}


def test_worker_takes_its_settings_from_the_environment(
    clean_db: ServerSet, private_broker: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    env = {**os.environ, "REDIS_URL": private_broker, **TUNED}
    cmd = [str(BIN / "celery"), "-A", "email_service.worker", "worker", "-Q", "sync", "-E", "-n", "tuned@%h"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        stats = _stats(env, proc)
        assert stats, log.read_text(errors="replace")[-3000:]
        [node] = stats.values()
        assert node["pool"]["max-concurrency"] == 3
        assert node["pool"]["max-tasks-per-child"] == 7
        assert node["prefetch_count"] == 3 * 2
        assert node["pool"]["timeouts"] == [100, 120]
    finally:
        stop_process(proc)
    text = log.read_text(errors="replace")
    assert " DEBUG " in text, "CELERY_WORKER_LOGLEVEL=DEBUG wins over LOG_LEVEL=WARNING in the worker"
