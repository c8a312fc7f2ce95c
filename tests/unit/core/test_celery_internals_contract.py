"""reconfigure() drops private caches of the Celery app; this checks they are still the caches.

`app._pool` (broker connection pool), `app.amqp._producer_pool`, and the result backend in
`app._backend_cache` (thread-safe kinds) or `app._local.backend` (the others, Redis's among them)
have no public reset. If a Celery upgrade renames or stops using one of them, a re-read configuration
would silently keep the old broker or backend: this fails instead. No server is needed: pools and
backends connect lazily.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from email_service.core.config import get_settings, load_settings, reset_settings
from email_service.tasks.celery_app import celery_app, reconfigure


@pytest.fixture
def restore() -> Iterator[None]:
    previous = get_settings()
    yield
    reset_settings(previous)
    reconfigure()


def _urls(app: Any) -> tuple[str, str, str]:
    pool_url = app.pool.connection.as_uri(include_password=True)
    producer_url = app.amqp.producer_pool.connections.connection.as_uri(include_password=True)
    backend: Any = app.backend
    return pool_url, producer_url, backend.url


def test_the_private_caches_are_what_the_app_serves_and_reconfigure_replaces_them(restore: None) -> None:
    app: Any = celery_app
    reset_settings(load_settings({"APP_ENV": "development", "REDIS_URL": "redis://127.0.0.1:6390/0"}))
    reconfigure()
    first = _urls(app)
    assert first[0].startswith("redis://127.0.0.1:6390") and first[1] == first[0]
    assert first[2].startswith("redis://127.0.0.1:6390/1")
    assert app._pool is app.pool  # the attributes reconfigure() clears are the live caches
    assert app.amqp._producer_pool is app.amqp.producer_pool
    backend = app.backend  # a thread-safe backend is cached app-wide, any other per thread
    assert backend is (app._backend_cache if backend.thread_safe else app._local.backend)
    reset_settings(load_settings({"APP_ENV": "development", "REDIS_URL": "redis://127.0.0.1:6391/0"}))
    reconfigure()
    second = _urls(app)
    assert second[0].startswith("redis://127.0.0.1:6391") and second[1] == second[0]
    assert second[2].startswith("redis://127.0.0.1:6391/1")
