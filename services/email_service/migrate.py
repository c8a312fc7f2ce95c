"""Run Alembic migrations programmatically (CLI `migrate`, tests, `make run`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from email_service.config import get_settings
from email_service.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.attributes["url"] = url
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Upgrade the schema, then let the app's role (if different) use it under RLS."""
    settings = get_settings()
    target = url or settings.migration_database_url
    command.upgrade(alembic_config(target), revision)
    grant_app_role(target, settings.database_url)


def grant_app_role(migration_url: str, app_url: str) -> None:
    """On PostgreSQL, when the app connects as another role, give it DML rights (RLS still applies)."""
    owner, app = make_url(migration_url), make_url(app_url)
    if owner.get_backend_name() != "postgresql" or not app.username or owner.username == app.username:
        return
    engine = make_engine(migration_url)
    role = engine.dialect.identifier_preparer.quote(app.username)
    with engine.begin() as conn:
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    engine.dispose()
