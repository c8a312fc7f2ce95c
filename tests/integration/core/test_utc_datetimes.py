"""One mechanism for time: every datetime column stores UTC and reads back aware, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.core.model_base import Base, UtcDateTime
from email_service.core.tenancy.identity import ensure_tenant_user
from email_service.messages.folder_model import Folder
from tests.conftest import ServerSet

PLUS_FIVE = timezone(timedelta(hours=5))


def _folder(tenant: str) -> Folder:
    with session_scope(system=True) as session:
        ensure_tenant_user(session, tenant, "u1", "u1@example.test")
        account = EmailAccount(
            tenant_id=tenant, user_id="u1", email_address="a@example.test", imap_host="h",
            smtp_host="h", username="a", secret_ciphertext="x",
        )  # fmt: skip
        session.add(account)
        session.flush()
        folder = Folder(tenant_id=tenant, user_id="u1", account_id=account.id, name="INBOX")
        session.add(folder)
        session.flush()
        return folder


def test_every_datetime_column_is_utc_aware() -> None:
    plain = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.type.python_type is datetime and not isinstance(column.type, UtcDateTime)
    ]
    assert plain == []


def test_an_aware_value_in_any_zone_reads_back_as_the_same_instant_in_utc(clean_db: ServerSet) -> None:
    folder = _folder("t-utc")
    local = datetime(2026, 3, 1, 23, 30, tzinfo=PLUS_FIVE)
    with session_scope("t-utc") as session:
        row = session.get(Folder, folder.id)
        assert row is not None
        row.last_full_scan_at = local
    with session_scope("t-utc") as session:
        stored = session.scalars(select(Folder.last_full_scan_at).where(Folder.id == folder.id)).one()
        created = session.scalars(select(Folder.created_at).where(Folder.id == folder.id)).one()
        raw = session.execute(
            text("SELECT last_full_scan_at FROM folders WHERE id = :id"), {"id": folder.id}
        ).scalar_one()
    assert stored == local and stored.utcoffset() == timedelta(0) and stored.tzinfo is not None
    assert created.tzinfo is not None and abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    assert "2026-03-01 18:30:00" in str(raw)  # the instant in UTC, whatever zone it came in


def test_comparisons_in_sql_use_the_instant(clean_db: ServerSet) -> None:
    """On SQLite the comparison is textual: it is right only because both sides are UTC."""
    folder = _folder("t-cmp")
    with session_scope("t-cmp") as session:
        row = session.get(Folder, folder.id)
        assert row is not None
        row.last_full_scan_at = datetime(2026, 3, 2, 1, 0, tzinfo=PLUS_FIVE)  # 2026-03-01 20:00 UTC
    cutoff = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
    with session_scope("t-cmp") as session:
        older = session.scalars(select(Folder.id).where(Folder.last_full_scan_at < cutoff)).all()
    assert older == [folder.id]


def test_a_naive_value_is_refused_rather_than_guessed(clean_db: ServerSet) -> None:
    folder = _folder("t-naive")
    with pytest.raises(Exception, match="timezone-aware"), session_scope("t-naive") as session:
        row = session.get(Folder, folder.id)
        assert row is not None
        row.last_full_scan_at = datetime(2026, 3, 1, 12, 0)
        session.flush()
