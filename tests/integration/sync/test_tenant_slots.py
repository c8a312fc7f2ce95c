"""The tenant's sync slots on a real Redis: a cap per tenant, other tenants unaffected, the same task
id (a redelivery) keeps its slot, and a dead run's slot frees itself when its expiry passes."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from email_service.sync.tenant_slots import TenantBusy, TenantSlot
from tests.conftest import ServerSet


def slot(client: redis.Redis, tenant: str, run_id: str, ttl: int = 60) -> TenantSlot:
    return TenantSlot(client, tenant, run_id, limit=2, ttl_seconds=ttl)


def test_two_slots_per_tenant_then_busy_until_one_is_released(clean_db: ServerSet) -> None:
    client = redis.Redis.from_url(clean_db.redis_url)
    tenant, other = f"t-{uuid.uuid4().hex}", f"t-{uuid.uuid4().hex}"
    first, second = slot(client, tenant, "run-1"), slot(client, tenant, "run-2")
    with first, second:
        with pytest.raises(TenantBusy):
            slot(client, tenant, "run-3").__enter__()
        assert slot(client, tenant, "run-1").acquire()  # a redelivery of run-1 holds the same slot
        with slot(client, other, "run-9"):  # another tenant has slots of its own
            pass
    with slot(client, tenant, "run-3") as third:
        assert third.held


def test_a_dead_runs_slot_frees_itself_when_it_expires(clean_db: ServerSet) -> None:
    client = redis.Redis.from_url(clean_db.redis_url)
    tenant = f"t-{uuid.uuid4().hex}"
    assert slot(client, tenant, "dead-1", ttl=1).acquire()  # never released: its worker was killed
    assert slot(client, tenant, "dead-2", ttl=1).acquire()
    assert not slot(client, tenant, "new").acquire()
    time.sleep(1.2)
    assert slot(client, tenant, "new").acquire()
