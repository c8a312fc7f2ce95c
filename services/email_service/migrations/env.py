"""Alembic environment: the URL comes from settings (MIGRATION_DATABASE_URL, else DATABASE_URL)."""

from __future__ import annotations

from alembic import context

from email_service.core.config import get_settings
from email_service.core.db import make_engine
from email_service.messages.search.index_objects import include_name, include_object
from email_service.schema import Base

config = context.config


def run_migrations() -> None:
    url = config.attributes.get("url") or get_settings().migration_database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
