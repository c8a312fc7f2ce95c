"""PostgreSQL row-level security: even a query that forgets the tenant filter sees only its tenant."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from email_service.crypto import get_secret_box
from email_service.db import session_scope
from email_service.models import EmailAccount, TaskRecord
from email_service.services.accounts import create_account
from tests.conftest import make_caller
from tests.integration.test_accounts_api import ACCOUNT


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
