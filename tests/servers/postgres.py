"""A throw-away PostgreSQL database for the test session, plus the service's two roles: a
non-superuser app role RLS applies to, and a non-superuser system role with BYPASSRLS.

Uses TEST_PG_ADMIN_URL, else the local server on 127.0.0.1:5432 as `postgres`, else a private
cluster started with the machine's initdb (installed by `make test`).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass

import psycopg

from tests.servers.redis_server import free_port


@dataclass
class PostgresDatabase:
    admin_url: str  # superuser/owner: migrations, truncation between tests
    app_url: str  # the role the service connects as (RLS applies)
    system_url: str  # the role of the cross-tenant jobs (BYPASSRLS, not a superuser)
    name: str
    cleanup_cmds: list[list[str]]

    def truncate(self, tables: list[str]) -> None:
        """TRUNCATE between tests. A worker just started by the test (or still finishing the last one)
        may hold a table TRUNCATE needs while waiting for one it took: PostgreSQL then aborts one side
        as a deadlock, and it is TRUNCATE that tries again (the worker's transaction went through)."""
        for attempt in range(5):
            try:
                with psycopg.connect(self.admin_url, autocommit=True) as conn:
                    conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
                return
            except psycopg.errors.DeadlockDetected:
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _private_cluster() -> tuple[str, list[list[str]]]:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise RuntimeError("PostgreSQL is not installed: run `make test`, which installs it")
    bindir = os.path.dirname(bins[-1])
    data = tempfile.mkdtemp(prefix="es-pg-")
    port = free_port()
    runas = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if runas:
        shutil.chown(data, "postgres")
    subprocess.run(
        [*runas, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    subprocess.run(
        [*runas, f"{bindir}/pg_ctl", "-D", data, "-o", opts, "-w", "start"], check=True, capture_output=True
    )
    stop = [*runas, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", [stop, ["rm", "-rf", data]]


def create_test_database() -> PostgresDatabase:
    server_url = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    cleanup: list[list[str]] = []
    if not _reachable(server_url):
        server_url, cleanup = _private_cluster()
    suffix = uuid.uuid4().hex[:10]
    name, role, system = f"es_test_{suffix}", f"es_app_{suffix}", f"es_sys_{suffix}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"CREATE ROLE \"{role}\" LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'app'")
        conn.execute(f"CREATE ROLE \"{system}\" LOGIN NOSUPERUSER BYPASSRLS PASSWORD 'system'")
    base = server_url.rsplit("/", 1)[0]
    host = base.split("@", 1)[1]
    return PostgresDatabase(
        admin_url=f"{base}/{name}",
        app_url=f"postgresql://{role}:app@{host}/{name}",
        system_url=f"postgresql://{system}:system@{host}/{name}",
        name=name,
        cleanup_cmds=cleanup,
    )


def drop_test_database(db: PostgresDatabase) -> None:
    server_url = db.admin_url.rsplit("/", 1)[0] + "/postgres"
    roles = [url.split("://", 1)[1].split(":", 1)[0] for url in (db.app_url, db.system_url)]
    try:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
            for role in roles:
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        for cmd in db.cleanup_cmds:
            subprocess.run(cmd, check=False, capture_output=True)
