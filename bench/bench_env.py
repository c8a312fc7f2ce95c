"""PostgreSQL and Redis for a benchmark, with the service's settings pointed at them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.servers.postgres import PostgresDatabase, create_test_database, drop_test_database
from tests.servers.redis_server import RedisServer


@dataclass(frozen=True)
class BenchServers:
    pg: PostgresDatabase | None  # None: the configured DATABASE_URL is used as it is
    redis_url: str


@contextmanager
def bench_servers(private: bool = False, env: dict[str, str] | None = None) -> Iterator[BenchServers]:
    """The configured DATABASE_URL/REDIS_URL unless `private`, else throw-away ones; schema migrated.

    `env` entries are defaults (a variable already set wins), applied before settings are re-read.
    """
    os.environ.update({k: v for k, v in (env or {}).items() if k not in os.environ})
    os.environ.setdefault("APP_ENV", "test")  # settings fail closed: a benchmark is not production
    # Throughput is measured with the limiter counting every request but never refusing one (one
    # user drives the whole load); set these to measure refusals instead.
    for name in ("RATE_LIMIT_USER", "RATE_LIMIT_TENANT", "SEND_LIMIT_USER", "SEND_LIMIT_TENANT"):
        os.environ.setdefault(name, "100000000/hour")
    pg = redis = None
    if private or not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        pg = create_test_database()
        os.environ.update({"DATABASE_URL": pg.app_url, "MIGRATION_DATABASE_URL": pg.admin_url})
    if private or not os.environ.get("REDIS_URL"):
        redis = RedisServer().start()
        os.environ["REDIS_URL"] = redis.url
    from email_service.core.config import reset_settings
    from email_service.core.db import dispose_engine
    from email_service.migrate import upgrade
    from email_service.tasks.celery_app import reconfigure

    reset_settings()
    dispose_engine()
    reconfigure()
    upgrade()
    try:
        yield BenchServers(pg, os.environ["REDIS_URL"])
    finally:
        dispose_engine()
        if redis is not None:
            redis.cleanup()
        if pg is not None:
            drop_test_database(pg)
