"""At most SYNC_TENANT_CONCURRENCY syncs of one tenant run at once, so one tenant's accounts on slow
servers cannot take every worker process and delay the others'.

A slot is a member (the task id) of a Redis sorted set per tenant, scored with its expiry; expired
members (a killed worker's) are swept on every take. The expiry is the sync lock's TTL, which outlives
the task's hard time limit. A redelivered run of the same task id finds its own slot and keeps it.
A sync that finds no free slot does not wait in its worker: the task is published again for later.
"""

from __future__ import annotations

import time
from types import TracebackType

import redis

from email_service.core.errors import TransientError

SLOTS_PREFIX = "email_service:tenant_syncs:"
_TAKE = """
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if redis.call('zscore', KEYS[1], ARGV[2]) == false and redis.call('zcard', KEYS[1]) >= tonumber(ARGV[3]) then
    return 0
end
redis.call('zadd', KEYS[1], ARGV[4], ARGV[2])
redis.call('expire', KEYS[1], ARGV[5])
return 1
"""


class TenantBusy(TransientError):
    """Every sync slot of the tenant is taken: run again later, without holding a worker meanwhile."""


class TenantSlot:
    """`with TenantSlot(client, tenant_id, run_id, limit, ttl):` raises TenantBusy when none is free."""

    def __init__(
        self, client: redis.Redis, tenant_id: str, run_id: str, limit: int, ttl_seconds: int
    ) -> None:
        self._client = client
        self.key = SLOTS_PREFIX + tenant_id
        self._run_id = run_id
        self._limit = limit
        self._ttl = ttl_seconds
        self.held = False

    def acquire(self) -> bool:
        now = time.time()
        taken = self._client.eval(
            _TAKE, 1, self.key, now, self._run_id, self._limit, now + self._ttl, self._ttl
        )
        self.held = bool(taken)
        return self.held

    def release(self) -> None:
        if self.held:
            self.held = False
            self._client.zrem(self.key, self._run_id)

    def __enter__(self) -> TenantSlot:
        if not self.acquire():
            raise TenantBusy(f"the tenant already runs {self._limit} syncs; this one runs after them")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
