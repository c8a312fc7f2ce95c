"""The three per-process memories (verified tokens, known users, owned tasks) are cachetools caches.

Each is driven here through the code that uses it, on a cache of the same kind and settings whose
clock the test moves: what matters is how long an answer is trusted, not cachetools itself.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from cachetools import TLRUCache, TTLCache

from email_service.core.config import load_settings
from email_service.core.errors import NotFound
from email_service.core.http import auth
from email_service.core.tasking import records
from email_service.core.tenancy import tokens

SETTINGS = load_settings({"APP_ENV": "development", "JWT_SECRET": "k" * 40})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_token_is_trusted_for_a_minute_at_most_and_never_past_its_exp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    cache: TLRUCache[Any, Any] = TLRUCache(tokens.MAX_VERIFIED_TOKENS, tokens._trusted_until, timer=clock)
    monkeypatch.setattr(tokens, "_verified", cache)
    decoded: list[str] = []
    real_decode = tokens._decode

    def counting_decode(settings: Any, token: str) -> Any:
        decoded.append(token)
        return real_decode(settings, token)

    monkeypatch.setattr(tokens, "_decode", counting_decode)
    long_lived = tokens.issue_token(SETTINGS, "t1", "u1", ttl_seconds=3600)
    short_lived = tokens.issue_token(SETTINGS, "t1", "u2", ttl_seconds=20)
    for token in (long_lived, short_lived, long_lived, short_lived):
        tokens.verify_token(SETTINGS, token)
    assert decoded == [long_lived, short_lived]  # the repeats were hits
    clock.now += 30  # past the short token's exp (20 s), within the minute
    tokens.verify_token(SETTINGS, long_lived)
    assert decoded == [long_lived, short_lived]
    assert len(cache) == 1  # the short token's entry went with its exp
    clock.now += 31  # past the minute
    tokens.verify_token(SETTINGS, long_lived)
    assert decoded == [long_lived, short_lived, long_lived]


def test_the_trust_window_is_the_shorter_of_the_ttl_and_the_time_left() -> None:
    identity = tokens.Identity("t", "u")
    assert tokens._trusted_until(None, (identity, time.time() + 5), 100.0) == pytest.approx(105, abs=1)
    assert tokens._trusted_until(None, (identity, time.time() + 9999), 100.0) == 160.0


def test_known_users_and_owned_tasks_are_bounded_ttl_caches() -> None:
    assert isinstance(auth.known_users, TTLCache)
    assert (auth.known_users.ttl, auth.known_users.maxsize) == (10.0, auth.MAX_CACHED_USERS)
    assert isinstance(records._owned_tasks, TTLCache)
    assert (records._owned_tasks.ttl, records._owned_tasks.maxsize) == (
        records.OWNED_TASK_TTL_SECONDS,
        10_000,
    )


def test_an_owned_task_is_remembered_for_its_ttl_and_fresh_always_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    monkeypatch.setattr(
        records, "_owned_tasks", TTLCache(10_000, records.OWNED_TASK_TTL_SECONDS, timer=clock)
    )
    lookups: list[str] = []
    created = datetime(2026, 1, 1, tzinfo=UTC)

    def fake_fetch(tenant_id: str, _statement: Any, params: dict[str, Any]) -> tuple[Any, ...] | None:
        lookups.append(params["task_id"])
        if params["task_id"] == "missing":
            return None
        return (params["task_id"], "sync", None, created, None, None, None)

    monkeypatch.setattr(records, "fetch_one_scoped", fake_fetch)
    records.find_owned_task("a", "t", "u")
    records.find_owned_task("a", "t", "u")
    assert lookups == ["a"]
    records.find_owned_task("a", "t", "u", fresh=True)  # asked again: the outcome may be recorded now
    records.find_owned_task("a", "t", "u", fresh=True)  # and again, however recent the last answer
    assert lookups == ["a", "a", "a"]
    records.find_owned_task("a", "t", "u")  # ownership needs no second lookup before the fresh one
    assert lookups == ["a", "a", "a"]
    clock.now += records.OWNED_TASK_TTL_SECONDS
    records.find_owned_task("a", "t", "u")
    assert lookups == ["a", "a", "a", "a"]
    with pytest.raises(NotFound):
        records.find_owned_task("missing", "t", "u")
    with pytest.raises(NotFound):
        records.find_owned_task("missing", "t", "u")  # a miss is never remembered
