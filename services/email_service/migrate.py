"""Run Alembic migrations programmatically (CLI `migrate`, tests, `make run`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from email_service.core.config import get_settings
from email_service.core.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.attributes["url"] = url
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Upgrade the schema, then let the app's and the system jobs' roles (if different) use it."""
    settings = get_settings()
    target = url or settings.migration_database_url
    command.upgrade(alembic_config(target), revision)
    grant_app_role(target, settings.database_url, settings.system_database_url)


def grant_app_role(migration_url: str, *role_urls: str) -> None:
    """On PostgreSQL, give each other role DML rights (RLS still applies to the app role)."""
    owner = make_url(migration_url)
    if owner.get_backend_name() != "postgresql":
        return
    urls = [make_url(u) for u in role_urls]
    names = {u.username for u in urls if u.get_backend_name() == "postgresql" and u.username}
    names.discard(owner.username or "")
    if not names:
        return
    engine = make_engine(migration_url)
    grants = (
        "GRANT USAGE ON SCHEMA public TO {}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}",
        # messages_search_probe (0008_fulltext_search) is not executable by PUBLIC.
        "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {}",
    )
    with engine.begin() as conn:
        for name in sorted(names):
            role = engine.dialect.identifier_preparer.quote(name)
            for grant in grants:
                conn.execute(text(grant.format(role)))
    engine.dispose()
