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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from email_service import create_app
from email_service.core.tasking.start import publish_task
from email_service.tasks.celery_app import QUEUES, TASK_PREFIX, TASK_QUEUES, celery_app
from tests.conftest import ServerSet, make_caller
from tests.integration.notifications.notification_support import environment
from tests.integration.sync.sync_support import make_account
from tests.servers.dovecot_fixtures import DovecotServer, ImapUser, new_user
from tests.servers.processes import start_worker, stop_process
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


@contextmanager
def _running_flower(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    cmd = [str(Path(sys.executable).parent / "celery"), "-A", "email_service.worker", "flower"]
    cmd += [f"--port={port}", "--address=127.0.0.1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env={**env, "FLOWER_BASIC_AUTH": AUTH}, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _get(url + "/healthcheck", auth=None)[0] != 200:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def flower(servers: ServerSet, worker: subprocess.Popen[bytes], tmp_path: Path) -> Iterator[str]:
    with _running_flower({**os.environ, **servers.env}, tmp_path / "flower.log") as url:
        yield url


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


# Messages per queue, published as the app routes them (each queue's priority), plus a few at other
# priority steps: the Redis transport keeps one list per step, and Flower must count them all.
QUEUED = {"sync": 3, "send": 2, "delete": 1, "spam": 4, "periodic": 1, "webhooks": 2}
EXTRA_STEPS = {"sync": (5, 9), "spam": (0,)}


def _fill_queues(broker_url: str) -> dict[str, int]:
    tenant = {"tenant_id": "t-flower", "user_id": "u-flower"}
    task_of = {queue: name for name, queue in reversed(TASK_QUEUES.items())}
    expected = {}
    with celery_app.connection_for_write(broker_url) as conn, conn.Producer() as producer:
        for queue, count in QUEUED.items():
            name = TASK_PREFIX + task_of[queue]
            for _ in range(count):
                celery_app.send_task(name, kwargs=tenant, producer=producer)
            for priority in EXTRA_STEPS.get(queue, ()):
                celery_app.send_task(name, kwargs=tenant, producer=producer, priority=priority)
            expected[queue] = count + len(EXTRA_STEPS.get(queue, ()))
    return expected


def test_flower_broker_page_counts_every_queue_over_its_priority_lists(
    clean_db: ServerSet, private_broker: str, tmp_path: Path
) -> None:
    """No worker consumes the private broker: Flower shows every queue with what waits in them."""
    expected = _fill_queues(private_broker)
    client = redis.Redis.from_url(private_broker)
    assert client.llen("sync") == QUEUED["sync"], "the routes' own priority lands on the queue's base list"
    assert sum(client.llen(key) for key in client.keys("sync*")) == expected["sync"]
    env = {**os.environ, **clean_db.env, "REDIS_URL": private_broker}
    with _running_flower(env, tmp_path / "flower.log") as url:
        status, body = _get(url + "/api/queues/length")
        assert status == 200, body
        assert {q["name"]: q["messages"] for q in body["active_queues"]} == expected
        status, page = _get(url + "/broker")
        assert status == 200
        assert all(f"{name}</td>".encode() in page or f">{name}<".encode() in page for name in QUEUES), page[
            :2000
        ]


def test_flower_shows_rate_limits_and_a_groups_members(
    clean_db: ServerSet, private_broker: str, dovecot: DovecotServer, imap_user: ImapUser, tmp_path: Path
) -> None:
    """A worker on the private broker: its registered tasks and the rate limit of send_notification,
    then a sync of all accounts whose members Flower lists under the group (their root)."""
    owner = make_caller()
    make_account(owner, imap_user)
    make_account(owner, new_user(dovecot))
    with environment(REDIS_URL=private_broker, NOTIFICATION_RATE_LIMIT="30/m"):
        env = dict(os.environ)
        worker = start_worker(env, tmp_path / "worker.log", name="flower-group")
        try:
            with _running_flower(env, tmp_path / "flower.log") as url:

                def registered() -> dict[str, Any] | None:
                    status, body = _get(url + "/api/workers?refresh=1")
                    info = next((v for k, v in (body or {}).items() if k.startswith("flower-group@")), None)
                    return info if status == 200 and info and info.get("registered") else None

                info = _wait_for(registered)
                names = " ".join(info["registered"])
                assert "email_service.tasks.sync_group_summary" in names
                limits = info["conf"]["task_annotations"]
                assert limits["email_service.tasks.send_notification"] == {"rate_limit": "30/m"}

                response = (
                    create_app()
                    .test_client()
                    .post("/api/email/sync", json={}, headers={"Authorization": f"Bearer {owner.token}"})
                )
                assert response.status_code == 202
                group_id = response.get_json()["taskId"]

                def group_tasks() -> dict[str, Any] | None:
                    status, body = _get(url + "/api/tasks")
                    tasks = {k: v for k, v in (body or {}).items() if v.get("root_id") == group_id}
                    done = [t for t in tasks.values() if t["state"] == "SUCCESS"]
                    return tasks if status == 200 and len(done) == 3 else None

                tasks = _wait_for(group_tasks, timeout=60)
        finally:
            stop_process(worker)
    names = sorted(t["name"] for t in tasks.values())
    assert names == ["email_service.tasks.sync_emails"] * 2 + ["email_service.tasks.sync_group_summary"]
    assert tasks[group_id]["name"] == "email_service.tasks.sync_group_summary"
