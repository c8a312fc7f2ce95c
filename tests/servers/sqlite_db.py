"""A throw-away SQLite database file for the test session: the embedded default that `make run` uses.

There are no roles on SQLite, so the service and the tests share one URL; isolation between tenants
rests on the queries' own tenant and user filters, which is what the SQLite run of the suite proves.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SqliteDatabase:
    path: Path
    directory: Path = field(repr=False)

    @property
    def admin_url(self) -> str:
        return f"sqlite:///{self.path}"

    @property
    def app_url(self) -> str:
        return self.admin_url

    @property
    def system_url(self) -> str:
        return self.admin_url

    def truncate(self, tables: list[str]) -> None:
        """Empty the tables, children first (SQLite has no TRUNCATE ... CASCADE)."""
        with sqlite3.connect(self.path, timeout=30) as conn:
            for table in tables:
                conn.execute(f'DELETE FROM "{table}"')


def create_sqlite_database() -> SqliteDatabase:
    directory = Path(tempfile.mkdtemp(prefix="es-sqlite-"))
    return SqliteDatabase(path=directory / "email_service.db", directory=directory)


def drop_sqlite_database(db: SqliteDatabase) -> None:
    shutil.rmtree(db.directory, ignore_errors=True)
