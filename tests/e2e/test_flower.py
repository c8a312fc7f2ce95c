"""Flower against the test broker, with basic auth: it lists the session worker and a finished task."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from email_service.core.tasking.start import publish_task
from tests.conftest import ServerSet, make_caller
from tests.servers.redis_server import free_port

AUTH = "ops:flower-e2e-password"


def _get(url: str, auth: str | None = AUTH) -> tuple[int, Any]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw.startswith((b"{", b"[")) else raw
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except OSError:  # not listening yet
        return 0, None


@pytest.fixture
def flower(servers: ServerSet, worker: subprocess.Popen[bytes], tmp_path: Path) -> Iterator[str]:
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "celery"), "-A", "email_service.worker", "flower"]
    cmd += [f"--port={port}", "--address=127.0.0.1"]
    env = {**os.environ, **servers.env, "FLOWER_BASIC_AUTH": AUTH}
    with (tmp_path / "flower.log").open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _get(url + "/healthcheck", auth=None)[0] != 200:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "flower.log").read_text()
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_for(probe: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while (value := probe()) is None:
        assert time.monotonic() < deadline, "Flower never showed it"
        time.sleep(0.3)
    return value


def test_flower_requires_auth_and_lists_worker_and_finished_task(flower, worker, clean_db) -> None:
    assert _get(flower + "/api/workers", auth=None)[0] == 401
    assert _get(flower + "/api/workers", auth="ops:wrong")[0] == 401

    def worker_names() -> list[str] | None:
        status, body = _get(flower + "/api/workers?refresh=1")
        names = [n for n in (body or {}) if n.startswith(f"e2e-{os.getpid()}@")]
        return names if status == 200 and names else None

    assert _wait_for(worker_names)

    caller = make_caller()
    task_id = f"flower-{time.time_ns()}"
    name = "delete_emails"
    publish_task(name, task_id, caller.tenant_id, caller.user_id, {"email_ids": []})

    def finished() -> dict[str, Any] | None:
        status, body = _get(flower + "/api/tasks")
        task = (body or {}).get(task_id) if status == 200 else None
        return task if task and task["state"] == "SUCCESS" else None

    task = _wait_for(finished)
    assert task["name"] == f"email_service.tasks.{name}"
    assert task["worker"].startswith(f"e2e-{os.getpid()}@")
