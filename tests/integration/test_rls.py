"""PostgreSQL row-level security: even a query that forgets the tenant filter sees only its tenant."""

from __future__ import annotations

import pytest
from psycopg import pq
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import DataError, ProgrammingError

from email_service.crypto import get_secret_box
from email_service.db import _fetch_one_raw, fetch_one_scoped, get_engine, session_scope
from email_service.models import EmailAccount, TaskRecord
from email_service.services.accounts import create_account
from tests.conftest import make_caller
from tests.integration.test_accounts_api import ACCOUNT

pytestmark = pytest.mark.pg_only


def _seed(tenant_id: str, user_id: str) -> str:
    with session_scope(tenant_id) as session:
        return create_account(session, get_secret_box(), tenant_id, user_id, dict(ACCOUNT)).id


def test_app_role_is_subject_to_rls(clean_db) -> None:
    with session_scope(system=True) as session:
        row = session.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
    assert tuple(row) == (False, False)


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
        assert _fetch_one_raw(raw, "t-x", "SELECT current_setting('app.tenant_id')", {}) == ("t-x",)
        assert raw.info.transaction_status == pq.TransactionStatus.IDLE
        assert raw.execute("SELECT current_setting('app.tenant_id', true)").fetchone() in {("",), (None,)}
        raw.rollback()
    finally:
        pooled.close()


def test_one_round_trip_read_maps_bad_input_like_the_session_path(clean_db) -> None:
    query = select(TaskRecord.id).where(TaskRecord.id == bindparam("id"))
    with pytest.raises(DataError):
        fetch_one_scoped("t", query, {"id": "nul\x00byte"})
