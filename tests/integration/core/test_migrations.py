"""Migrations run on SQLite and PostgreSQL and match the models exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from email_service.core.db import make_engine
from email_service.core.model_base import Base
from email_service.messages.search.index_objects import include_name, include_object
from email_service.migrate import alembic_config

SEARCH_OBJECTS_LEFT_OUT = {"include_name": include_name, "include_object": include_object}


def test_sqlite_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    assert {"messages", "email_accounts", "task_records"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=SEARCH_OBJECTS_LEFT_OUT)
        assert compare_metadata(context, Base.metadata) == []
    command.downgrade(alembic_config(url), "base")
    assert "messages" not in inspect(engine).get_table_names()
    command.upgrade(alembic_config(url), "head")
    engine.dispose()


@pytest.mark.pg_only
def test_postgresql_schema_matches_models(servers) -> None:
    engine = make_engine(servers.pg.admin_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=SEARCH_OBJECTS_LEFT_OUT)
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()
