"""Cooperative cancel of a running sync: a Redis flag per task that the engine reads between batches.

Terminating the worker process mid-sync (revoke with terminate) left the account lock held until
its TTL ran out, so every sync for the next half hour answered "already_running". A flag instead
lets the run stop at the next batch boundary: the checkpointed batches stay, the lock is released
on the way out, and the task reports itself revoked.
"""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)
CANCEL_PREFIX = "email_service:cancel:"
# Outlives a queue backlog, the hard time limit and a redelivery: a cancelled task that starts (or
# starts again) later still stops at its first boundary.
CANCEL_TTL_SECONDS = 6 * 3600


def cancel_key(task_id: str) -> str:
    return CANCEL_PREFIX + task_id


def request_cancel(client: redis.Redis, task_id: str) -> None:
    """Ask the run of `task_id` to stop at its next batch boundary (idempotent)."""
    client.set(cancel_key(task_id), b"1", ex=CANCEL_TTL_SECONDS)


class CancelFlag:
    """`flag()` is True once the run was asked to stop; the engine calls it between batches."""

    def __init__(self, client: redis.Redis, task_id: str) -> None:
        self._client, self._key = client, cancel_key(task_id)

    def __call__(self) -> bool:
        try:
            return bool(self._client.exists(self._key))
        except redis.RedisError as exc:  # best effort: an unreadable flag must not stop a healthy sync
            log.warning("cancel flag unreadable: %s", type(exc).__name__)
            return False
