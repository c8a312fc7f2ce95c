"""Splitting accounts between watcher processes: live members by heartbeat, accounts by rendezvous
hashing over them, and a Redis lease per account so that two watchers never hold the same one.

Each watcher heartbeats into a sorted set (score: when its membership expires) and wants the accounts
whose highest rendezvous score among the live members is its own. It connects an account only after
SET NX PX of the account's lease, renews its leases every tick and drops an account whose renewal
fails or which another member now wins (releasing the lease for it). A killed watcher stops renewing:
its membership and leases expire after one lease time and the others take its accounts at their next
tick, so a takeover needs about lease + tick seconds.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence

import redis.asyncio as aioredis

MEMBERS_KEY = "email_service:watch:members"
LEASE_PREFIX = "email_service:watch_lease:"
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def lease_key(account_id: str) -> str:
    return LEASE_PREFIX + account_id


def rendezvous_owner(account_id: str, members: Sequence[str]) -> str | None:
    """The member with the highest hash of (member, account): stable, and only a departed member's
    accounts move when membership changes."""
    if not members:
        return None
    return max(
        members, key=lambda m: hashlib.blake2b(f"{m}\x00{account_id}".encode(), digest_size=8).digest()
    )


class Leases:
    """One watcher's membership and account leases in Redis."""

    def __init__(self, client: aioredis.Redis, member: str, lease_seconds: float) -> None:
        self._client = client
        self.member = member
        self._lease_ms = int(lease_seconds * 1000)

    async def heartbeat(self) -> list[str]:
        """Renew our membership and return the live members (ourselves included)."""
        now = int(time.time() * 1000)
        pipe = self._client.pipeline(transaction=False)
        pipe.zadd(MEMBERS_KEY, {self.member: now + self._lease_ms})
        pipe.zremrangebyscore(MEMBERS_KEY, "-inf", now)
        pipe.zrangebyscore(MEMBERS_KEY, now, "+inf")
        _, _, live = await pipe.execute()
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in live)

    async def leave(self) -> None:
        await self._client.zrem(MEMBERS_KEY, self.member)

    async def acquire(self, account_ids: Iterable[str]) -> set[str]:
        """The accounts whose lease we took now (free ones only)."""
        ids = list(account_ids)
        if not ids:
            return set()
        pipe = self._client.pipeline(transaction=False)
        for account_id in ids:
            pipe.set(lease_key(account_id), self.member, nx=True, px=self._lease_ms)
        results = await pipe.execute()
        return {account_id for account_id, ok in zip(ids, results, strict=True) if ok}

    async def renew(self, account_ids: Iterable[str]) -> set[str]:
        """The accounts whose lease is still ours (and now extended); the rest were lost."""
        ids = list(account_ids)
        if not ids:
            return set()
        pipe = self._client.pipeline(transaction=False)
        for account_id in ids:
            pipe.eval(_RENEW, 1, lease_key(account_id), self.member, self._lease_ms)
        results = await pipe.execute()
        return {account_id for account_id, ok in zip(ids, results, strict=True) if ok}

    async def release(self, account_ids: Iterable[str]) -> None:
        ids = list(account_ids)
        if not ids:
            return
        pipe = self._client.pipeline(transaction=False)
        for account_id in ids:
            pipe.eval(_RELEASE, 1, lease_key(account_id), self.member)
        await pipe.execute()
