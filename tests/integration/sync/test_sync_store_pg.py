"""The PostgreSQL COPY insert path of the sync store: idempotent, exact round trip of awkward values."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.mail.imap.types import FetchedMessage, FlagUpdate
from email_service.sync import store
from email_service.sync.rows import RowContext, build_rows
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sync.sync_support import SyncAccount, folder_row, make_account, message, rows
from tests.servers.dovecot_fixtures import ImapUser

pytestmark = pytest.mark.pg_only

AWKWARD_BODY = "tab\there, back\\slash, \\N, ünïcödé\r\nnext line\rcr only\r\n"
BROKEN = b"\x00\t\\\r\n\xff not a message"  # bytes COPY must escape; parses to nothing useful


@pytest.fixture
def account(owner: Caller, imap_user: ImapUser) -> SyncAccount:
    acc = make_account(owner, imap_user)
    run_account_sync(*acc.ids)  # discovers the folders; the mailbox is empty
    return acc


def batch(account: SyncAccount, first_uid: int) -> list[FetchedMessage]:
    raws = [message(first_uid, subject="tab\tsubject", body=AWKWARD_BODY), message(first_uid + 1), BROKEN]
    return [FetchedMessage(first_uid + i, ("\\Seen",), 7, None, len(raw), raw) for i, raw in enumerate(raws)]


def context(account: SyncAccount) -> RowContext:
    folder = folder_row(account)
    assert folder.uidvalidity is not None
    return RowContext(
        account.caller.tenant_id,
        account.caller.user_id,
        account.account_id,
        folder.id,
        folder.uidvalidity,
        True,
    )


def test_copy_insert_round_trips_values_and_ignores_existing_rows(account: SyncAccount) -> None:
    ctx = context(account)
    with session_scope(account.caller.tenant_id) as session:
        assert store.insert_batch(session, ctx.folder_id, build_rows(ctx, batch(account, 1))) == 3
    with session_scope(account.caller.tenant_id) as session:  # a redelivered batch: fresh ids, same keys
        assert store.insert_batch(session, ctx.folder_id, build_rows(ctx, batch(account, 1))) == 0
    stored = rows(account)
    assert [m.uid for m in stored] == [1, 2, 3]
    assert stored[0].subject == "tab\tsubject" and stored[0].body_text == AWKWARD_BODY.replace("\r\n", "\n")
    assert stored[0].flags == ["\\Seen"] and stored[0].is_read and stored[0].to_addresses[1]["email"]
    assert stored[0].headers["Content-Type"].startswith("text/plain")
    broken = [m for m in stored if m.parse_error is not None]
    assert not broken or broken[0].raw == BROKEN
    assert folder_row(account).synced_uid == 3


def test_two_batches_in_one_transaction(account: SyncAccount) -> None:
    ctx = context(account)
    with session_scope(account.caller.tenant_id) as session:
        assert store.insert_batch(session, ctx.folder_id, build_rows(ctx, batch(account, 1))) == 3
        assert store.insert_batch(session, ctx.folder_id, build_rows(ctx, batch(account, 4))) == 3
    assert [m.uid for m in rows(account)] == [1, 2, 3, 4, 5, 6]
    assert folder_row(account).synced_uid == 6


def _index_fetches(session: Session) -> int:
    """Heap tuples this transaction has fetched from messages through its indexes so far."""
    found = session.execute(
        text("SELECT coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables WHERE relname = 'messages'")
    ).scalar_one_or_none()
    return int(found or 0)


def test_a_flag_update_probes_each_changed_uid_once(account: SyncAccount) -> None:
    """Without statistics (a fresh table), at most one pass over the tenant's rows plus the changes,
    not changes x rows: one statement re-ran a probe per change for each row of the tenant."""
    ctx = context(account)
    fetched = [FetchedMessage(uid, (), 1, None, 0, message(uid)) for uid in range(1, 401)]
    with session_scope(account.caller.tenant_id) as session:
        assert store.insert_batch(session, ctx.folder_id, build_rows(ctx, fetched)) == 400
    changes = [FlagUpdate(uid, ("\\Seen", "\\Flagged"), 2) for uid in range(1, 401, 4)]
    with session_scope(account.caller.tenant_id) as session:
        before = _index_fetches(session)
        key = (ctx.account_id, ctx.folder_id, ctx.uidvalidity)
        assert store.update_flags(session, *key, changes) == len(changes)
        fetched_rows = _index_fetches(session) - before
        assert fetched_rows <= 2 * (len(fetched) + len(changes)), fetched_rows  # one statement: 20,300
    assert sum(1 for row in rows(account) if row.is_flagged) == len(changes)
