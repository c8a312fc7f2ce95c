"""Full-text migrations: 0008 fills the index for mail stored before it; 0012 keeps its word splitting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from email_service.accounts.model import EmailAccount
from email_service.core.db import make_engine
from email_service.core.tenancy.tenant_model import Tenant
from email_service.core.tenancy.user_model import User
from email_service.messages.attachment_model import Attachment
from email_service.messages.folder_model import Folder
from email_service.messages.model import Message
from email_service.messages.search.query import ASCII_PUNCTUATION
from email_service.migrate import alembic_config
from tests.servers.postgres import create_test_database, drop_test_database

SEARCHES = {
    "postgresql": "SELECT id FROM messages WHERE search_vector @@ to_tsquery('simple', :q) ORDER BY id",
    "sqlite": "SELECT m.id FROM messages AS m JOIN messages_fts AS f ON f.rowid = m.rowid"
    " WHERE messages_fts MATCH :q ORDER BY m.id",
}


def _store_mail(url: str) -> tuple[str, str]:
    """A message with an attachment and one without, written at head: (with, without)."""
    engine = make_engine(url)
    owner = {"tenant_id": "t-mig", "user_id": "u-mig"}
    with Session(engine) as session, session.begin():
        session.add(Tenant(id="t-mig", name="t"))
        session.flush()
        session.add(User(id="u-mig", tenant_id="t-mig", email="u@example.com"))
        session.flush()
        account = EmailAccount(
            **owner, email_address="u@example.com", imap_host="h", smtp_host="h", username="u"
        )
        account.secret_ciphertext = "x"
        session.add(account)
        session.flush()
        folder = Folder(**owner, account_id=account.id, name="INBOX", role="inbox")
        session.add(folder)
        session.flush()
        common = {**owner, "account_id": account.id, "folder_id": folder.id, "uidvalidity": 1}
        when = datetime(2026, 1, 1, tzinfo=UTC)
        with_file = Message(**common, uid=1, date_sort=when, subject="Budget", body_text="see the figures")
        without = Message(
            **common, uid=2, date_sort=when, subject="Lunch", from_address="chef@bistro.example"
        )
        session.add_all([with_file, without])
        session.flush()
        session.add(Attachment(**owner, message_id=with_file.id, filename="forecast-2026.xlsx", content=b"x"))
        ids = (with_file.id, without.id)
    engine.dispose()
    return ids


def _found(url: str, backend: str, q: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = [row[0] for row in conn.execute(text(SEARCHES[backend]), {"q": q})]
    engine.dispose()
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg_only)])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(url, backend) of a database of its own: this one goes down and up again."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'search.db'}", "sqlite"
        return
    db = create_test_database()
    try:
        yield db.admin_url, "postgresql"
    finally:
        drop_test_database(db)


def test_mail_stored_before_the_migration_is_searchable_after_it(fresh_database: tuple[str, str]) -> None:
    url, backend = fresh_database
    command.upgrade(alembic_config(url), "head")
    with_file, without = _store_mail(url)
    command.downgrade(alembic_config(url), "0007_message_actions")  # as if stored before search existed
    command.upgrade(alembic_config(url), "head")
    assert _found(url, backend, "forecast") == [with_file]  # attachment names backfilled too
    assert _found(url, backend, "figures") == [with_file]
    assert _found(url, backend, "bistro") == [without]
    engine = make_engine(url)
    with engine.connect() as conn:
        names = dict(conn.execute(text("SELECT id, attachment_names FROM messages")).all())
    engine.dispose()
    assert names == {with_file: "forecast-2026.xlsx", without: ""}


@pytest.mark.pg_only
@pytest.mark.parametrize("revision", ["0011_pop3_accounts", "head"])
def test_search_text_turns_exactly_the_query_separators_into_spaces(revision: str) -> None:
    """0012 rewrote messages_search_text() for speed; at either revision it splits words as query.py does."""
    db = create_test_database()
    try:
        command.upgrade(alembic_config(db.admin_url), "head")
        if revision != "head":
            command.downgrade(alembic_config(db.admin_url), revision)
        sample = "".join(chr(c) for c in range(1, 0x800) if not 0xD800 <= c <= 0xDFFF)
        engine = make_engine(db.admin_url)
        with engine.connect() as conn:
            got = conn.execute(text("SELECT messages_search_text(:v)"), {"v": sample}).scalar_one()
        engine.dispose()
    finally:
        drop_test_database(db)
    assert got == "".join(" " if ch in ASCII_PUNCTUATION else ch for ch in sample)
