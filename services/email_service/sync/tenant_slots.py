"""At most SYNC_TENANT_CONCURRENCY syncs of one tenant run at once, so one tenant's accounts on slow
servers cannot take every worker process and delay the others'.

Each slot is a core.slots lease named by the task id, expiring with the sync lock's TTL, which
outlives the task's hard time limit. A redelivered run of the same task id finds its own slot and keeps it.
A sync that finds no free slot does not wait in its worker: the task is published again for later.
"""

from __future__ import annotations

from types import TracebackType

import redis

from email_service.core.errors import TransientError
from email_service.core.slots import LeasedSlots

SLOTS_PREFIX = "email_service:tenant_syncs:"


class TenantBusy(TransientError):
    """Every sync slot of the tenant is taken: run again later, without holding a worker meanwhile."""


class TenantSlot:
    """`with TenantSlot(client, tenant_id, run_id, limit, ttl):` raises TenantBusy when none is free."""

    def __init__(
        self, client: redis.Redis, tenant_id: str, run_id: str, limit: int, ttl_seconds: int
    ) -> None:
        self._slots = LeasedSlots(client, SLOTS_PREFIX + tenant_id, limit, ttl_seconds)
        self.key = self._slots.key
        self._run_id = run_id
        self._limit = limit
        self.held = False

    def acquire(self) -> bool:
        self.held = self._slots.take(self._run_id)
        return self.held

    def release(self) -> None:
        if self.held:
            self.held = False
            self._slots.give_back(self._run_id)

    def __enter__(self) -> TenantSlot:
        if not self.acquire():
            raise TenantBusy(f"the tenant already runs {self._limit} syncs; this one runs after them")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
