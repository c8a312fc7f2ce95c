"""Shared fixtures: a real PostgreSQL database and Redis server per test session, the app, tokens."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.servers.dns_server import DnsTestServer
from tests.servers.postgres import PostgresDatabase, create_test_database, drop_test_database
from tests.servers.redis_server import RedisServer
from tests.servers.sqlite_db import SqliteDatabase, create_sqlite_database, drop_sqlite_database

# Settings fail closed (APP_ENV unset = production); the suite, and every process it starts (they
# inherit os.environ), runs as "test" by choice. Set here, before anything loads settings.
os.environ["APP_ENV"] = "test"

pytest_plugins = [
    "tests.attack_report",
    "tests.servers.dns_fixtures",
    "tests.servers.dovecot_fixtures",
    "tests.servers.mailutils_fixtures",
    "tests.servers.oauth_fixtures",
    "tests.servers.smtp_fixtures",
    "tests.servers.webhook_receiver",
]

TEST_KEYS = (
    "k2:"
    + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="
    + ",k1:"
    + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
)


# The suite runs twice in `make test`: on PostgreSQL with row-level security (the default) and on the
# embedded default of `make run`, SQLite with the embedded Redis (TEST_DB_BACKEND=sqlite). Tests of
# what exists only on PostgreSQL (RLS, COPY, roles) carry the `pg_only` marker and are left out there.
BACKEND = os.environ.get("TEST_DB_BACKEND", "postgresql")
if BACKEND not in {"postgresql", "sqlite"}:
    raise pytest.UsageError(f"TEST_DB_BACKEND must be postgresql or sqlite, not {BACKEND!r}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite, deselect (not skip) the PostgreSQL-only tests: nothing reports as skipped."""
    if BACKEND != "sqlite":
        return
    kept = [item for item in items if item.get_closest_marker("pg_only") is None]
    dropped = [item for item in items if item.get_closest_marker("pg_only") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@dataclass
class ServerSet:
    db: PostgresDatabase | SqliteDatabase
    redis_url: str
    env: dict[str, str]

    @property
    def backend(self) -> str:
        return "sqlite" if isinstance(self.db, SqliteDatabase) else "postgresql"

    @property
    def pg(self) -> PostgresDatabase:
        """The PostgreSQL database, for tests marked pg_only."""
        if not isinstance(self.db, PostgresDatabase):
            raise RuntimeError("this test needs PostgreSQL: mark it pg_only")
        return self.db


@pytest.fixture(scope="session")
def servers(dns_server: DnsTestServer) -> Iterator[ServerSet]:
    """Start (or reuse) the database and Redis, point the settings at them (and autoconfig at the test
    DNS server), migrate the schema."""
    db: PostgresDatabase | SqliteDatabase
    if BACKEND == "sqlite":
        db = create_sqlite_database()
        redis: RedisServer | None = RedisServer().start()  # the embedded Redis of `make run`
    else:
        if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
            os.environ.setdefault("TEST_PG_ADMIN_URL", os.environ["DATABASE_URL"])
        db = create_test_database()
        redis = None if os.environ.get("REDIS_URL") else RedisServer().start()
    redis_url = redis.url if redis else os.environ["REDIS_URL"]
    env = {
        "APP_ENV": "test",
        "DATABASE_URL": db.app_url,
        "MIGRATION_DATABASE_URL": db.admin_url,
        "SYSTEM_DATABASE_URL": db.system_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": "test-secret-" + "x" * 40,
        "ENCRYPTION_KEYS": TEST_KEYS,
        "LOG_LEVEL": "INFO",
        "FRONTEND_URL": "http://frontend.test",
        "AUTOCONFIG_NAMESERVERS": dns_server.address,
    }
    os.environ.update(env)
    apply_environment()
    from email_service.migrate import upgrade

    upgrade()
    yield ServerSet(db, redis_url, env)
    from email_service.core.db import dispose_engine

    dispose_engine()
    if redis:
        redis.cleanup()
    if isinstance(db, SqliteDatabase):
        drop_sqlite_database(db)
    else:
        drop_test_database(db)


def apply_environment() -> None:
    """Make every cached piece of configuration re-read os.environ."""
    from email_service.core.config import reset_settings
    from email_service.core.db import dispose_engine
    from email_service.tasks.celery_app import reconfigure

    reset_settings()
    dispose_engine()
    reconfigure()


# Every table, children first; truncated between tests.
TABLES = [
    # Children before parents, as a writer locks them (a row, then its foreign keys' parents): a worker
    # of the previous test still committing then blocks TRUNCATE at its first table instead of
    # deadlocking with it (seen with changes, which TRUNCATE ... CASCADE reached last).
    "webhook_deliveries",
    "webhooks",
    "changes",
    "message_references",
    "drafts",
    "message_actions",
    "attachments",
    "messages",
    "folders",
    "outbox_messages",
    "task_records",
    "user_spam_models",
    "email_accounts",
    "users",
    "tenants",
]


@pytest.fixture
def clean_db(servers: ServerSet) -> ServerSet:
    servers.db.truncate(TABLES)
    return servers


@pytest.fixture
def app(clean_db: ServerSet) -> Any:
    from email_service import create_app

    flask_app = create_app({"TESTING": True})
    return flask_app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@dataclass(frozen=True)
class Caller:
    tenant_id: str
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_caller(tenant_id: str | None = None, user_id: str | None = None, email: str = "") -> Caller:
    """Create tenant and user rows (system scope, as the CLI does) and a token for them."""
    from email_service.core.config import get_settings
    from email_service.core.db import session_scope
    from email_service.core.tenancy.identity import ensure_tenant_user
    from email_service.core.tenancy.tokens import issue_token

    tenant_id = tenant_id or f"tenant-{uuid.uuid4().hex[:8]}"
    user_id = user_id or f"user-{uuid.uuid4().hex[:8]}"
    with session_scope(system=True) as session:
        ensure_tenant_user(session, tenant_id, user_id, email or f"{user_id}@example.com")
    return Caller(tenant_id, user_id, issue_token(get_settings(), tenant_id, user_id))


@pytest.fixture
def owner(clean_db: ServerSet) -> Caller:
    return make_caller()


@pytest.fixture
def same_tenant_other_user(owner: Caller) -> Caller:
    return make_caller(tenant_id=owner.tenant_id)


@pytest.fixture
def other_tenant(clean_db: ServerSet) -> Caller:
    return make_caller()


@pytest.fixture
def task_retries() -> Iterator[list[BaseException]]:
    """Retries as Celery itself reports them (its task_retry signal), in eager runs and in workers."""
    from celery.signals import task_retry

    seen: list[BaseException] = []

    def record(sender: Any = None, reason: Any = None, **_: Any) -> None:
        seen.append(getattr(reason, "exc", None) or reason)

    task_retry.connect(record, weak=False)
    yield seen
    task_retry.disconnect(record)
