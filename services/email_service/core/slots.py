"""A counting semaphore in Redis whose holds lapse: at most `limit` members of one key at once.

A member is stored in a sorted set scored with its expiry; expired members (a killed process's) are
swept on every take, so a crash costs a slot only until its lease runs out. Taking again with a
member that holds a slot already keeps it (a redelivered task finds its own slot).
"""

from __future__ import annotations

import time

import redis

_TAKE = """
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if redis.call('zscore', KEYS[1], ARGV[2]) == false and redis.call('zcard', KEYS[1]) >= tonumber(ARGV[3]) then
    return 0
end
redis.call('zadd', KEYS[1], ARGV[4], ARGV[2])
redis.call('expire', KEYS[1], ARGV[5])
return 1
"""


class LeasedSlots:
    """The slots of one key: `take(member)` answers whether it got (or kept) one."""

    def __init__(self, client: redis.Redis, key: str, limit: int, ttl_seconds: int) -> None:
        self._client = client
        self.key = key
        self.limit = limit
        self._ttl = ttl_seconds

    def take(self, member: str) -> bool:
        now = time.time()
        taken = self._client.eval(_TAKE, 1, self.key, now, member, self.limit, now + self._ttl, self._ttl)
        return bool(taken)

    def give_back(self, member: str) -> None:
        self._client.zrem(self.key, member)

    def holders(self) -> int:
        """Members whose lease has not run out (for tests and metrics)."""
        return int(self._client.zcount(self.key, time.time(), "+inf"))
