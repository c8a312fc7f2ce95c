"""Database engines (per process, created lazily) and the transactional session scope.

Two roles on PostgreSQL: tenant sessions connect as DATABASE_URL's role, which row-level security
confines to the tenant its transaction names; system sessions (the few cross-tenant jobs) connect
as SYSTEM_DATABASE_URL's role, which bypasses RLS. The app role has no switch to see across
tenants: nothing it can SET widens the policies. With one URL for both (SQLite) one engine serves.

Engines are never built at import time: Celery forks workers after import, and a pool shared
across a fork corrupts connections. Workers call dispose_engine() after the fork.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeAlias, cast

import psycopg
from psycopg import pq, sql
from psycopg.adapt import Transformer
from psycopg.generators import execute as pq_execute
from sqlalchemy import Engine, Select, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from email_service.core.config import ConfigError, get_settings

AnySelect: TypeAlias = Select[*tuple[Any, ...]]
_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None
_system_engine: Engine | None = None
_system_factory: sessionmaker[Session] | None = None
_system_role_checked = False
_engine_pid: int | None = None
# A connection idle longer than this is pinged before use (PostgreSQL; SQLite needs no ping).
IDLE_PING_SECONDS = 5.0


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine with the settings this service relies on for each backend."""
    # Each domain keeps its own model; every table must be in the metadata before the first flush
    # (foreign keys name tables by string). Imported here, lazily, because schema imports the domains.
    import email_service.schema  # noqa: F401

    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10, pool_recycle=1800)
    event.listen(engine, "checkin", _mark_idle_since)
    event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
    return engine


def _mark_idle_since(_dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Pessimistic disconnect check, but only for a connection idle long enough to have gone stale.

    pool_pre_ping costs a round trip on every checkout (two per API request); a connection reused
    within IDLE_PING_SECONDS was just working, and a failure on it still invalidates the pool.
    """
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_conn)
    except Exception as exc:
        raise DisconnectionError("idle connection failed its ping") from exc


def get_engine() -> Engine:
    """The process's tenant engine; both are rebuilt when the pid changed (a fork we were not told about)."""
    global _engine, _session_factory, _system_engine, _system_factory, _system_role_checked, _engine_pid
    if _engine is None or _engine_pid != os.getpid():
        settings = get_settings()
        _engine = make_engine(settings.database_url)
        _session_factory = sessionmaker(bind=_engine, expire_on_commit=False)
        if settings.system_database_url == settings.database_url:
            _system_engine, _system_factory = _engine, _session_factory
        else:
            _system_engine = make_engine(settings.system_database_url)
            _system_factory = sessionmaker(bind=_system_engine, expire_on_commit=False)
        _system_role_checked = False
        _engine_pid = os.getpid()
    return _engine


def get_system_engine() -> Engine:
    """The engine of the cross-tenant jobs (the same one as get_engine() when the URLs agree)."""
    get_engine()
    assert _system_engine is not None
    return _system_engine


def dispose_engine() -> None:
    """Forget the pools inherited from a parent process (called after a worker forks)."""
    global _engine, _session_factory, _system_engine, _system_factory, _engine_pid
    for engine in {id(e): e for e in (_engine, _system_engine) if e is not None}.values():
        engine.dispose(close=False)
    _engine = _system_engine = None
    _session_factory = _system_factory = None
    _engine_pid = None


BYPASS_SQL = "SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"


def _check_system_role(engine: Engine) -> None:
    """Once per process: a system role under RLS would see no rows and every system job would do nothing."""
    global _system_role_checked
    if _system_role_checked or engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        role, bypasses = conn.execute(text(BYPASS_SQL)).one()
    if not bypasses:
        raise ConfigError(
            f"SYSTEM_DATABASE_URL: role {role!r} is subject to row-level security; "
            "the cross-tenant jobs need a role with BYPASSRLS"
        )
    _system_role_checked = True


SCOPE_SQL = "SELECT set_config('app.tenant_id', {}, true)"


@event.listens_for(Session, "after_begin")
def _apply_tenant_setting(session: Session, _transaction: Any, connection: Any) -> None:
    """Feed PostgreSQL row-level security: every tenant transaction names its tenant.

    System sessions set nothing: their role bypasses RLS, and no setting could grant that.
    """
    if connection.dialect.name != "postgresql" or session.info.get("system", False):
        return
    connection.execute(
        text("SELECT set_config('app.tenant_id', :t, true)"), {"t": session.info.get("tenant_id") or ""}
    )


@contextmanager
def session_scope(tenant_id: str | None = None, *, system: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error.

    tenant_id scopes row-level security on PostgreSQL; system=True is for the few cross-tenant jobs
    (periodic_sync, cleanup, CLI administration), runs as the system role and must never be driven
    by request input.
    """
    if tenant_id is None and not system:
        raise ValueError("session_scope needs a tenant_id or system=True")
    get_engine()
    factory = _system_factory if system else _session_factory
    assert factory is not None
    if system:
        _check_system_role(get_system_engine())
    session = factory()
    session.info["tenant_id"] = tenant_id
    session.info["system"] = system
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def fetch_one_scoped(tenant_id: str, statement: AnySelect, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """First row of a read-only SELECT under the tenant's RLS scope; ONE round trip on PostgreSQL.

    For the API's hottest lookup: no Session, no ORM objects, no BEGIN/COMMIT of their own, and the
    statement compiled once per process: pass a module constant, values as bindparam()s.
    """
    rows = fetch_all_scoped(tenant_id, [(statement, params)])[0]
    return rows[0] if rows else None


def fetch_all_scoped(
    tenant_id: str, queries: Sequence[tuple[AnySelect, dict[str, Any]]]
) -> list[list[tuple[Any, ...]]]:
    """Every row of each read-only SELECT under the tenant's RLS scope, all in ONE round trip on PostgreSQL.

    As fetch_one_scoped (module-constant statements, values as bindparam()s); datetimes come back
    in UTC as UtcDateTime gives them. Elsewhere: one session, the statements one after the other.
    """
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        with session_scope(tenant_id) as session:
            return [[tuple(row) for row in session.execute(st, params)] for st, params in queries]
    compiled = []
    for statement, params in queries:
        query, defaults = _compiled_sql(engine, statement)
        compiled.append((query, {**defaults, **params}))
    pooled = engine.raw_connection()
    try:
        raw = cast("psycopg.Connection[Any]", pooled.driver_connection)
        return _fetch_raw(raw, tenant_id, compiled)
    except psycopg.Error as exc:
        if isinstance(exc, psycopg.OperationalError):
            pooled.invalidate(exc)
        # The same wrapped errors as the Session path, so the API maps them the same way (503, 400).
        query, params = compiled[0]
        raise DBAPIError.instance(query, params, exc, psycopg.Error) from exc
    finally:
        pooled.close()


_COMPILED: dict[AnySelect, tuple[str, dict[str, Any]]] = {}


def _compiled_sql(engine: Engine, statement: AnySelect) -> tuple[str, dict[str, Any]]:
    """SQL with %(name)s placeholders and the statement's own bound values, compiled once.

    Compiling costs more CPU than the query's round trip.
    """
    compiled = _COMPILED.get(statement)
    if compiled is None:
        done = statement.compile(dialect=engine.dialect)
        compiled = _COMPILED[statement] = (str(done), dict(done.params))
    return compiled


def _fetch_raw(
    raw: psycopg.Connection[Any], tenant_id: str, queries: list[tuple[str, dict[str, Any]]]
) -> list[list[tuple[Any, ...]]]:
    """The RLS settings and the SELECTs as one simple-protocol query.

    PostgreSQL runs a multi-statement simple query as one implicit transaction, so the local
    set_config still covers exactly these SELECTs and ends with them. Values are bound by psycopg.
    """
    if raw.info.transaction_status != pq.TransactionStatus.IDLE:
        raw.rollback()
    parts = [sql.SQL(SCOPE_SQL).format(sql.Literal(tenant_id)).as_bytes(raw)]
    mogrify = psycopg.ClientCursor(raw).mogrify
    parts.extend(mogrify(query, params).encode(raw.info.encoding) for query, params in queries)
    with raw.lock:
        raw.pgconn.send_query(b"; ".join(parts))
        results = raw.wait(pq_execute(raw.pgconn))
    for result in results:
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise psycopg.errors.error_from_result(result, encoding=raw.info.encoding)
    return [_load_rows(raw, result) for result in results[1:]]


def _load_rows(raw: psycopg.Connection[Any], result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
    if result.ntuples == 0:
        return []
    loader = Transformer(raw)
    loader.set_pgresult(result)
    rows = loader.load_rows(0, result.ntuples, tuple)
    return [tuple(_utc(value) for value in row) for row in rows]


def _utc(value: Any) -> Any:
    """What UtcDateTime.process_result_value does (every datetime column is one): aware, in UTC."""
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo is not None else value
