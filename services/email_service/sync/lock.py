"""One sync per account at a time: a Redis key with a TTL and an owner token.

The TTL outlives the task's hard time limit, so a killed worker frees the account by itself;
release deletes the key only when it still holds our token, so a late finisher never frees
a lock that a newer run has taken since. A task passes its id as the token: when a killed worker's
message is redelivered, the same task id takes over the lock its dead run left behind instead of
reporting "already_running" and leaving the sync undone until the TTL runs out.
"""

from __future__ import annotations

import os
import secrets
from types import TracebackType

import redis

LOCK_PREFIX = "email_service:sync_lock:"
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
_ACQUIRE = """
local current = redis.call('get', KEYS[1])
if current == false or current == ARGV[1] then
    redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
    return 1
end
return 0
"""


def lock_key(account_id: str) -> str:
    """Redis key of an account's sync lock (cleanup jobs use LOCK_PREFIX to find orphans)."""
    return LOCK_PREFIX + account_id


class AccountLock:
    """`with AccountLock(client, account_id, ttl) as held:` — held is False when another run owns it."""

    def __init__(
        self,
        client: redis.Redis,
        account_id: str,
        ttl_seconds: int,
        token: str | None = None,
        prefix: str = LOCK_PREFIX,
    ) -> None:
        """`prefix` names another lock of the account (e.g. its OAuth2 token refresh) with the same rules."""
        self._client = client
        self.key = prefix + account_id
        self._ttl = ttl_seconds
        self._token = token or secrets.token_hex(16)
        self.held = False

    def acquire(self) -> bool:
        """Atomic take-if-free (or already ours: a redelivered run of the same task) with expiry."""
        self.held = bool(self._client.eval(_ACQUIRE, 1, self.key, self._token, self._ttl))
        return self.held

    def release(self) -> bool:
        """Delete the key only if it still carries our token (compare-and-delete in Lua)."""
        if not self.held:
            return False
        self.held = False
        return bool(self._client.eval(_RELEASE, 1, self.key, self._token))

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def redis_client(url: str) -> redis.Redis:
    """A short-lived client for the lock (the broker Redis; sockets time out rather than hang)."""
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)


_shared: dict[tuple[int, str], redis.Redis] = {}


def shared_client(url: str) -> redis.Redis:
    """One long-lived client per process and URL: prefork children open sockets of their own, and a
    changed broker URL (tests, tools) gets its own client rather than the old server's."""
    key = (os.getpid(), url)
    client = _shared.get(key)
    if client is None:
        client = _shared[key] = redis_client(url)
    return client
