"""Sync under adverse conditions: no CONDSTORE, broken MIME, a cut connection, redelivered batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from email_service.core.db import session_scope
from email_service.mail.imap.client import ImapConnectionError
from email_service.messages.model import Message
from email_service.sync import store
from email_service.sync.plan import SyncOptions
from email_service.sync.rows import BuiltBatch
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sync.sync_support import (
    NO_CONDSTORE,
    CuttableProxy,
    attachments,
    folder_row,
    imap,
    make_account,
    message,
    rows,
    summary,
    uids,
)
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user

SAMPLES = Path(__file__).parents[2] / "unit" / "mail" / "mime_samples"


def test_server_without_condstore_or_qresync(owner: Caller, dovecot_factory: DovecotFactory) -> None:
    user = new_user(dovecot_factory(capabilities=NO_CONDSTORE))
    account = make_account(owner, user)
    user.server.append(user.username, "INBOX", [message(i) for i in range(1, 6)])
    assert summary(run_account_sync(*account.ids)) == (5, 0, 0)
    assert folder_row(account).highestmodseq is None
    assert summary(run_account_sync(*account.ids)) == (0, 0, 0)  # nothing changed
    with imap(user) as client:
        client.select_folder("INBOX")
        client.add_flags([1], ["\\Seen"])
        client.delete_messages([5])
        client.expunge()
    # The count changed: UID comparison finds the expunge; the recent-flags window sees \Seen at once.
    result = run_account_sync(*account.ids)
    assert summary(result) == (0, 1, 1)
    no_window = SyncOptions(recent_flags_window=0)
    with imap(user) as client:
        client.select_folder("INBOX")
        client.add_flags([3], ["\\Seen"])
    # Without the window, count + UIDNEXT unchanged: skipped, and only the full scan sees the flag.
    assert summary(run_account_sync(*account.ids, options=no_window)) == (0, 0, 0)
    result = run_account_sync(*account.ids, options=no_window, force_full_sync=True)  # periodic FLAGS scan
    assert summary(result) == (0, 1, 0)
    assert [m.is_read for m in rows(account)] == [True, False, True, False]
    quick = SyncOptions(full_scan_interval=timedelta(0), recent_flags_window=0)
    with imap(user) as client:
        client.select_folder("INBOX")
        client.add_flags([2], ["\\Flagged"])
    assert summary(run_account_sync(*account.ids, options=quick)) == (0, 1, 0)


def test_malformed_and_exotic_mime_is_kept(owner: Caller, imap_user: ImapUser) -> None:
    account = make_account(owner, imap_user)
    samples = sorted(SAMPLES.glob("*.eml"))
    raws = [p.read_bytes() for p in samples] + [b"\r\n\r\n", message(99)]
    imap_user.server.seed_maildir(imap_user.username, "INBOX", raws)
    result = run_account_sync(*account.ids)
    assert result.messages_synced == len(raws)
    stored = rows(account)
    assert len(stored) == len(raws)
    quarantined = [m for m in stored if m.parse_error]
    assert len(quarantined) == 1 and quarantined[0].raw == b"\r\n\r\n"
    assert any(m.subject == "message 99" for m in stored)
    with_files = [m for m in stored if m.has_attachments]
    assert with_files and all(attachments(account, m.id) for m in with_files)
    assert all(a.content is not None for m in with_files for a in attachments(account, m.id))


def test_connection_cut_mid_sync_resumes_without_loss_or_duplicates(
    owner: Caller, imap_user: ImapUser
) -> None:
    proxy = CuttableProxy(imap_user.port)
    try:
        account = make_account(owner, imap_user, port=proxy.port)
        imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(1, 41)])
        options = SyncOptions(batch_size=10, parse_workers=0)

        def cut_after_first_batch(meta: dict[str, object]) -> None:
            if meta["folder"] == "INBOX" and meta["done"] == 10:
                proxy.cut()

        with pytest.raises(ImapConnectionError):
            run_account_sync(*account.ids, options=options, progress=cut_after_first_batch)
        assert uids(account) == list(range(1, 11))
        assert folder_row(account).synced_uid == 10
        result = run_account_sync(*account.ids, options=options)
        assert result.messages_synced == 30
        assert uids(account) == list(range(1, 41))
    finally:
        proxy.close()


def test_redelivered_batch_is_harmless(owner: Caller, imap_user: ImapUser) -> None:
    account = make_account(owner, imap_user)
    imap_user.server.append(imap_user.username, "INBOX", [message(1), message(2)])
    run_account_sync(*account.ids)
    folder = folder_row(account)
    again = [dict(m.__dict__) for m in rows(account)]
    for row in again:
        row.pop("_sa_instance_state")
        row["id"] = row["id"][:-4] + "beef"
    with session_scope(owner.tenant_id) as session:
        assert store.insert_batch(session, folder.id, BuiltBatch(again, [], 2)) == 0
    assert uids(account) == [1, 2]


def test_soft_deleted_rows_stay_hidden(owner: Caller, imap_user: ImapUser) -> None:
    account = make_account(owner, imap_user)
    imap_user.server.append(imap_user.username, "INBOX", [message(1), message(2)])
    run_account_sync(*account.ids)
    hidden = rows(account)[0]
    with session_scope(owner.tenant_id) as session:
        session.execute(update(Message).where(Message.id == hidden.id).values(deleted_at=datetime.now(UTC)))
    with imap(imap_user) as client:
        client.select_folder("INBOX")
        client.add_flags([1, 2], ["\\Seen"])
    result = run_account_sync(*account.ids, force_full_sync=True)
    assert result.messages_synced == 0 and result.messages_updated == 2
    again = {m.uid: m for m in rows(account)}
    assert len(again) == 2 and again[1].id == hidden.id and again[1].deleted_at is not None
