"""PostgreSQL row-level security: even a query that forgets the tenant filter sees only its tenant."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command
from psycopg import pq
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import DataError, ProgrammingError

from email_service.accounts.model import EmailAccount
from email_service.accounts.service import create_account
from email_service.core.config import ConfigError
from email_service.core.crypto import get_secret_box
from email_service.core.db import _fetch_raw, fetch_all_scoped, fetch_one_scoped, get_engine, session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.migrate import alembic_config
from tests.conftest import ServerSet, apply_environment, make_caller
from tests.integration.accounts.test_accounts_api import ACCOUNT
from tests.servers.postgres import create_test_database, drop_test_database

ROLE_SQL = "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
# Every table under RLS and the column naming its tenant.
TENANT_COLUMNS = {
    "tenants": "id",
    "users": "tenant_id",
    "email_accounts": "tenant_id",
    "folders": "tenant_id",
    "messages": "tenant_id",
    "attachments": "tenant_id",
    "task_records": "tenant_id",
    "outbox_messages": "tenant_id",
    "user_spam_models": "tenant_id",
    "message_actions": "tenant_id",
    "message_references": "tenant_id",
    "drafts": "tenant_id",
    "changes": "tenant_id",
    "webhooks": "tenant_id",
    "webhook_deliveries": "tenant_id",
}

pytestmark = pytest.mark.pg_only


def _seed(tenant_id: str, user_id: str) -> str:
    with session_scope(tenant_id) as session:
        return create_account(session, get_secret_box(), tenant_id, user_id, dict(ACCOUNT)).id


def test_app_role_is_subject_to_rls_and_system_jobs_run_as_a_bypassing_role(clean_db) -> None:
    with session_scope("t-any") as session:
        assert tuple(session.execute(text(ROLE_SQL)).one()) == (False, False)
    with session_scope(system=True) as session:  # a role of its own: BYPASSRLS, not a superuser
        assert tuple(session.execute(text(ROLE_SQL)).one()) == (False, True)


def _visible_tenants(conn: psycopg.Connection) -> dict[str, set[str]]:
    found = {}
    for table, column in TENANT_COLUMNS.items():
        found[table] = {row[0] for row in conn.execute(f"SELECT {column} FROM {table}")}
    return found


@pytest.mark.parametrize(
    "switch_on",
    [
        "SET app.bypass_rls = 'on'",
        "SET LOCAL app.bypass_rls = 'on'",
        "SELECT set_config('app.bypass_rls', 'on', false)",
        "SELECT set_config('app.bypass_rls', 'on', true)",
    ],
)
def test_app_role_cannot_switch_the_bypass_on_for_itself(clean_db: ServerSet, switch_on: str) -> None:
    a, b = make_caller(), make_caller()
    _seed(a.tenant_id, a.user_id)
    _seed(b.tenant_id, b.user_id)
    with psycopg.connect(clean_db.pg.app_url) as conn:  # the app role, outside the service's code
        conn.execute(switch_on)
        assert conn.execute("SELECT current_setting('app.bypass_rls')").fetchone() == ("on",)
        assert all(seen == set() for seen in _visible_tenants(conn).values())
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (a.tenant_id,))
        seen = _visible_tenants(conn)
        assert seen["email_accounts"] == seen["users"] == seen["tenants"] == {a.tenant_id}
        assert set().union(*seen.values()) == {a.tenant_id}


def test_system_sessions_see_every_tenant_without_any_setting(clean_db) -> None:
    a, b = make_caller(), make_caller()
    a_id, b_id = _seed(a.tenant_id, a.user_id), _seed(b.tenant_id, b.user_id)
    with session_scope(system=True) as session:
        assert session.execute(text("SELECT current_setting('app.bypass_rls', true)")).scalar() in {"", None}
        assert sorted(session.scalars(select(EmailAccount.id))) == sorted([a_id, b_id])


@pytest.fixture
def system_url_of_the_app_role(clean_db: ServerSet) -> Iterator[None]:
    os.environ["SYSTEM_DATABASE_URL"] = clean_db.pg.app_url
    apply_environment()
    try:
        yield
    finally:
        os.environ["SYSTEM_DATABASE_URL"] = clean_db.pg.system_url
        apply_environment()


def test_a_system_role_under_rls_is_refused_loudly(system_url_of_the_app_role: None) -> None:
    """Otherwise every cross-tenant job would quietly find nothing to do."""
    with pytest.raises(ConfigError, match="SYSTEM_DATABASE_URL"), session_scope(system=True):
        pass
    with session_scope("t-any") as session:  # tenant sessions are not affected
        assert session.scalars(select(EmailAccount.id)).all() == []


def test_unscoped_query_sees_only_the_current_tenant(clean_db) -> None:
    a, b = make_caller(), make_caller()
    a_id, b_id = _seed(a.tenant_id, a.user_id), _seed(b.tenant_id, b.user_id)
    with session_scope(a.tenant_id) as session:
        assert session.scalars(select(EmailAccount.id)).all() == [a_id]  # no WHERE tenant_id at all
    with session_scope(b.tenant_id) as session:
        assert session.scalars(select(EmailAccount.id)).all() == [b_id]
        assert session.get(EmailAccount, a_id) is None
    with session_scope(system=True) as session:
        assert sorted(session.scalars(select(EmailAccount.id)).all()) == sorted([a_id, b_id])


def test_writing_into_another_tenant_is_refused(clean_db) -> None:
    a, b = make_caller(), make_caller()
    with pytest.raises(ProgrammingError, match="row-level security"), session_scope(a.tenant_id) as session:
        session.add(TaskRecord(id="t-1", tenant_id=b.tenant_id, user_id=b.user_id, kind="x"))
        session.flush()


def test_scope_survives_commit_inside_a_session(clean_db) -> None:
    a, b = make_caller(), make_caller()
    _seed(b.tenant_id, b.user_id)
    with session_scope(a.tenant_id) as session:
        session.commit()  # a new transaction starts; the tenant setting must be applied again
        assert session.scalars(select(EmailAccount.id)).all() == []


def test_one_round_trip_read_carries_the_tenant_scope(clean_db) -> None:
    a, b = make_caller(), make_caller()
    a_id, b_id = _seed(a.tenant_id, a.user_id), _seed(b.tenant_id, b.user_id)
    query = select(EmailAccount.id, func.current_setting("app.tenant_id")).where(
        EmailAccount.id.in_([bindparam("a"), bindparam("b")])
    )
    assert fetch_one_scoped(a.tenant_id, query, {"a": a_id, "b": b_id}) == (a_id, a.tenant_id)
    assert fetch_one_scoped(b.tenant_id, query, {"a": a_id, "b": b_id}) == (b_id, b.tenant_id)
    assert fetch_one_scoped(a.tenant_id, select(EmailAccount.id).where(EmailAccount.id == b_id), {}) is None


def test_one_round_trip_read_leaves_no_setting_behind(clean_db) -> None:
    pooled = get_engine().raw_connection()
    try:
        raw = pooled.driver_connection
        query = "SELECT current_setting('app.tenant_id')"
        assert _fetch_raw(raw, "t-x", [(query, {}), (query, {})]) == [[("t-x",)], [("t-x",)]]
        assert raw.info.transaction_status == pq.TransactionStatus.IDLE
        assert raw.execute("SELECT current_setting('app.tenant_id', true)").fetchone() in {("",), (None,)}
        raw.rollback()
    finally:
        pooled.close()


def test_one_round_trip_read_maps_bad_input_like_the_session_path(clean_db) -> None:
    query = select(TaskRecord.id).where(TaskRecord.id == bindparam("id"))
    with pytest.raises(DataError):
        fetch_one_scoped("t", query, {"id": "nul\x00byte"})
    with pytest.raises(DataError):
        fetch_all_scoped("t", [(query, {"id": "fine"}), (query, {"id": "nul\x00byte"})])


POLICIES = (
    "SELECT tablename, qual || ' ' || with_check FROM pg_policies WHERE policyname = 'tenant_isolation'"
)


def test_the_migration_takes_the_bypass_out_of_every_policy_and_its_downgrade_puts_it_back() -> None:
    db = create_test_database()  # a database of its own: this one goes down and up again
    try:

        def policies() -> dict[str, str]:
            with psycopg.connect(db.admin_url) as conn:
                return {table: text for table, text in conn.execute(POLICIES)}

        command.upgrade(alembic_config(db.admin_url), "head")
        assert set(policies()) == set(TENANT_COLUMNS)
        assert not any("bypass_rls" in text for text in policies().values())
        command.downgrade(alembic_config(db.admin_url), "0001")
        assert all(text.count("bypass_rls") == 2 for text in policies().values())
        command.upgrade(alembic_config(db.admin_url), "head")
        assert not any("bypass_rls" in text for text in policies().values())
    finally:
        drop_test_database(db)
