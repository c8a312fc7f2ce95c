"""At most N deliveries in flight per endpoint, across every worker: core.slots leases, each lapsing
with the attempt's timeout plus a margin, so a worker killed mid-delivery frees its slot."""

from __future__ import annotations

import math
import uuid

from email_service.core.config import get_settings
from email_service.core.slots import LeasedSlots
from email_service.sync.lock import shared_client

PREFIX = "email_service:webhook_slots:"


def _slots(webhook_id: str, limit: int, lease_seconds: float) -> LeasedSlots:
    client = shared_client(get_settings().broker_url)
    return LeasedSlots(client, PREFIX + webhook_id, limit, math.ceil(lease_seconds))


def acquire(webhook_id: str, limit: int, lease_seconds: float) -> str | None:
    """A slot token, or None when `limit` deliveries to this endpoint are already in flight."""
    token = uuid.uuid4().hex
    return token if _slots(webhook_id, limit, lease_seconds).take(token) else None


def release(webhook_id: str, token: str) -> None:
    _slots(webhook_id, 1, 1).give_back(token)
