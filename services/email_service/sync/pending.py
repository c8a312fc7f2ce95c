"""At most one queued or running API sync per account (and folder, and full/incremental kind).

A Redis key per target names the task that holds it. A trigger claims the key atomically; when another
task holds it and that task has not finished, the trigger answers with that task instead of queueing a
second full sync (300 triggers in a second once ran 39 syncs of one account). A holder that finished,
failed or was forgotten (its broker publish failed) is replaced. The key expires with the sync lock's
TTL, so a task whose worker died without an outcome frees the target by itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

PENDING_PREFIX = "email_service:sync_pending:"
# A holder's record is committed just after its claim; within this many seconds an unseen record is
# taken to be that commit in flight, not a forgotten task.
UNCOMMITTED_GRACE_SECONDS = 30.0

# Take the key when free, or replace the holder named in ARGV[3] (seen finished); else return the holder.
_CLAIM = """
local current = redis.call('get', KEYS[1])
if current == false or current == ARGV[3] then
    redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
    return false
end
return current
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def pending_key(account_id: str, folder_id: str | None, force_full_sync: bool) -> str:
    kind = "full" if force_full_sync else "incremental"
    return f"{PENDING_PREFIX}{account_id}:{folder_id or '*'}:{kind}"


@dataclass(frozen=True)
class Claim:
    """A key's value: the holding task and when it claimed (raw is what Redis stores)."""

    task_id: str
    claimed_at: float

    @property
    def raw(self) -> str:
        return f"{self.task_id}|{self.claimed_at:.3f}"

    @classmethod
    def now(cls, task_id: str) -> Claim:
        return cls(task_id, round(time.time(), 3))

    @classmethod
    def parse(cls, raw: str) -> Claim:
        task_id, _, claimed_at = raw.partition("|")
        try:
            return cls(task_id, float(claimed_at))
        except ValueError:
            return cls(task_id, 0.0)

    def lately(self) -> bool:
        """Young enough that an unseen record is its commit in flight, not a forgotten task."""
        return time.time() - self.claimed_at < UNCOMMITTED_GRACE_SECONDS


def claim_sync(
    client: redis.Redis, key: str, mine: Claim, ttl_seconds: int, replacing: Claim | None = None
) -> Claim | None:
    """None when mine now holds the key; else the current holder.

    replacing is a holder already seen finished: two triggers that both saw it finished do not both
    replace it, the second one sees the first's claim.
    """
    held = client.eval(_CLAIM, 1, key, mine.raw, ttl_seconds, replacing.raw if replacing else "")
    if not held:
        return None
    return Claim.parse(held.decode() if isinstance(held, bytes) else str(held))


def release_sync(client: redis.Redis, key: str, mine: Claim) -> None:
    """Free the key if it still holds our claim (the task could not be published)."""
    client.eval(_RELEASE, 1, key, mine.raw)
