from __future__ import annotations

import pytest

from email_service.core.ttl_cache import TtlCache


def test_entries_expire_and_never_outlive_the_cache_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("email_service.core.ttl_cache.time.monotonic", lambda: clock[0])
    cache: TtlCache[str, int] = TtlCache(ttl=10, max_entries=5)
    cache.put("short", 1, ttl=2)
    cache.put("long", 2, ttl=500)
    clock[0] += 5
    assert (cache.get("short"), cache.get("long")) == (None, 2)
    clock[0] += 5
    assert cache.get("long") is None


def test_bounded_and_discardable() -> None:
    cache: TtlCache[int, int] = TtlCache(ttl=60, max_entries=3)
    for i in range(4):
        cache.put(i, i)
    assert [cache.get(i) for i in range(4)] == [None, None, None, 3]
    cache.discard(3)
    assert cache.get(3) is None
