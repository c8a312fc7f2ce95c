"""Operator and API helpers over the Celery app: status, active tasks, queue lengths, revoke."""

from __future__ import annotations

from typing import Any

from kombu.exceptions import ChannelError

from email_service.core.config import get_settings
from email_service.core.tasking.outcomes import REVOKED_ERROR, error_payload
from email_service.sync.cancel import request_cancel
from email_service.sync.lock import redis_client
from email_service.tasks.celery_app import QUEUES, celery_app

STATE_NAMES = {
    "PENDING": "pending",
    "RECEIVED": "pending",
    "STARTED": "running",
    "PROGRESS": "running",
    "RETRY": "retrying",
    "SUCCESS": "success",
    "FAILURE": "failed",
    "REVOKED": "revoked",
    "REJECTED": "failed",
}


def get_task_status(task_id: str) -> dict[str, Any]:
    """{taskId, status, result, error, progress} from ONE result-backend read.

    AsyncResult.state followed by .info reads the backend twice for a task that is not finished
    (only ready states are cached), which is exactly the case a polling frontend hits.
    """
    meta = _read_task_meta(task_id)
    state = str(meta.get("status") or "PENDING")
    info = meta.get("result")
    payload: dict[str, Any] = {
        "taskId": task_id,
        "status": STATE_NAMES.get(state, state.lower()),
        "result": None,
        "error": None,
        "progress": None,
    }
    if state == "SUCCESS":
        payload["result"] = info
    elif state == "PROGRESS" and isinstance(info, dict):
        payload["progress"] = info
    elif state in {"FAILURE", "RETRY", "REJECTED"} and info is not None:
        payload["error"] = error_payload(info)
    elif state == "REVOKED":
        payload["error"] = dict(REVOKED_ERROR)
    return payload


def _read_task_meta(task_id: str) -> dict[str, Any]:
    """One GET of the stored meta, decoded by the backend itself (its key format and serializer).

    What backend.get_task_meta does without its eager check, retry wrapper and result cache: the
    API polls and wants the fresh value, and a Redis error still surfaces (the API answers 503).
    """
    backend: Any = celery_app.backend
    stored = backend.get(backend.get_key_for_task(task_id))
    if not stored:
        return {"status": "PENDING", "result": None}
    meta: dict[str, Any] = backend.decode_result(stored)
    return meta


def revoke_task(task_id: str, terminate: bool = False) -> None:
    celery_app.control.revoke(task_id, terminate=terminate, signal="SIGTERM")


def cancel_sync(task_id: str) -> None:
    """Stop a sync at its next batch boundary (its lock released, its batches kept), or before it starts.

    No terminate: killing the process mid-sync would leave the account locked until the lock's TTL.
    """
    client = redis_client(get_settings().broker_url)
    try:
        request_cancel(client, task_id)
    finally:
        client.close()
    revoke_task(task_id)


def get_active_tasks(timeout: float = 1.0) -> dict[str, list[dict[str, Any]]]:
    """Tasks currently executing, per worker (empty when no worker answers in time)."""
    return celery_app.control.inspect(timeout=timeout).active() or {}


def get_queue_stats() -> dict[str, int]:
    """Messages waiting in each queue, summed over its priority lists (a passive declare's count).

    The Redis transport keeps no list for an empty queue, so a passive declare of one finds nothing
    (NOT_FOUND): nothing waits there.
    """
    with celery_app.connection_for_read() as conn:
        channel = conn.default_channel
        return {name: _waiting(channel, name) for name in QUEUES}


def _waiting(channel: Any, name: str) -> int:
    try:
        return int(channel.queue_declare(queue=name, passive=True).message_count)
    except ChannelError:
        return 0
