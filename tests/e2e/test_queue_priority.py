"""Queue priorities on a real worker that consumes every queue, as `make run` starts one.

500 check_spam messages wait; sync_emails messages published after them must start next. Without
priorities the Redis transport reads its queues round robin, so each sync waited behind a spam task.
The worker gets its own broker database, so the session's worker cannot take these messages.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from email_service.tasks.celery_app import TASK_PREFIX, celery_app
from tests.conftest import ServerSet
from tests.servers.processes import ALL_QUEUES, start_worker, stop_process

SPAM, SYNCS = 500, 10
# Messages the worker already holds when the syncs arrive (one running, prefetch 1) may finish first.
IN_FLIGHT = 2


def _publish(broker_url: str, name: str, count: int, kwargs: dict[str, str]) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with celery_app.connection_for_write(broker_url) as conn, conn.Producer() as producer:
        for task_id in ids:
            celery_app.send_task(TASK_PREFIX + name, kwargs=kwargs, task_id=task_id, producer=producer)
    return ids


def _done_at(task_ids: list[str]) -> list[datetime]:
    """When each finished task ended (result backend date_done); unfinished ones are left out."""
    backend = celery_app.backend
    out = []
    for task_id in task_ids:
        meta = backend.get_task_meta(task_id)
        if meta.get("status") in {"SUCCESS", "FAILURE"}:
            done = meta["date_done"]
            out.append(done if isinstance(done, datetime) else datetime.fromisoformat(done))
    return [d if d.tzinfo else d.replace(tzinfo=UTC) for d in out]


def _wait_done(task_ids: list[str], count: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while len(_done_at(task_ids)) < count:
        assert time.monotonic() < deadline, f"only {len(_done_at(task_ids))} of {count} finished"
        time.sleep(0.2)


def test_sync_published_after_500_spam_checks_starts_next(
    clean_db: ServerSet, private_broker: str, tmp_path: Path
) -> None:
    tenant = {"tenant_id": "t-prio", "user_id": "u-prio"}
    # Cheap tasks: a message and an account that do not exist fail at once, without retry.
    spam = _publish(private_broker, "check_spam", SPAM, {"email_id": "no-such-message", **tenant})
    env = {**os.environ, "REDIS_URL": private_broker}
    worker = start_worker(env, tmp_path / "worker.log", queues=ALL_QUEUES, concurrency=1, name="prio")
    try:
        _wait_done(spam, 20)  # the worker is busy with spam, as under a flood
        published_at = datetime.now(UTC)
        syncs = _publish(
            private_broker, "sync_emails", SYNCS, {"email_client_id": "no-such-account", **tenant}
        )
        _wait_done(syncs, SYNCS)
    finally:
        stop_process(worker)

    last_sync = max(_done_at(syncs))
    overtaking = [d for d in _done_at(spam) if published_at < d < last_sync]
    assert len(overtaking) <= IN_FLIGHT, (
        f"{len(overtaking)} spam checks ran between the syncs' publication and the last sync"
    )
