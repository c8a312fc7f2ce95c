"""At most N deliveries in flight per endpoint, across every worker: a Redis sorted set of leases.

Each lease is scored by its expiry, so a worker killed mid-delivery frees its slot when the lease
runs out (the attempt's timeout plus a margin) instead of holding it for good.
"""

from __future__ import annotations

import time
import uuid

import redis

from email_service.core.config import get_settings
from email_service.sync.lock import redis_client

PREFIX = "email_service:webhook_slots:"
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis_client(get_settings().broker_url)
    return _client


def acquire(webhook_id: str, limit: int, lease_seconds: float) -> str | None:
    """A slot token, or None when `limit` deliveries to this endpoint are already in flight."""
    key, token, now = PREFIX + webhook_id, uuid.uuid4().hex, time.time()
    pipe = _redis().pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.zadd(key, {token: now + lease_seconds})
    pipe.zrank(key, token)
    pipe.expire(key, int(lease_seconds) + 60)
    _removed, _added, rank, _ttl = pipe.execute()
    if rank is not None and int(rank) < limit:
        return token
    _redis().zrem(key, token)
    return None


def release(webhook_id: str, token: str) -> None:
    _redis().zrem(PREFIX + webhook_id, token)
