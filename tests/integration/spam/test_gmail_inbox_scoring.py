"""New INBOX mail is scored and spam moved to Junk; on Gmail that is the All Mail rows labelled \\Inbox.

The All Mail rows are built as the sync builds them from a Gmail FETCH (Dovecot does not answer
X-GM-LABELS), in the `\\All` folder of a Dovecot with a virtual All mailbox.
"""

from __future__ import annotations

from sqlalchemy import select, update

from email_service.accounts.model import EmailAccount
from email_service.core.db import session_scope
from email_service.mail.imap.types import FetchedMessage
from email_service.messages.model import Message
from email_service.spam.junk import move_spam_to_junk
from email_service.spam.service import unscored_inbox_ids
from email_service.sync import store
from email_service.sync.rows import RowContext, build_rows
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.deletion.delete_support import rows_in, server_subjects
from tests.integration.spam.junk_support import PHISH_SUBJECT, phish
from tests.integration.sync.sync_support import folder_row, imap, make_account, message
from tests.servers.dovecot_fixtures import DovecotFactory, new_user
from tests.servers.dovecot_virtual import VIRTUAL_ALL_NAME


def test_all_mail_rows_labelled_inbox_are_inbox_mail(owner: Caller, dovecot_factory: DovecotFactory) -> None:
    user = new_user(dovecot_factory(virtual_all=True))
    user.server.append(user.username, "INBOX", [message(1)])
    account = make_account(owner, user)
    run_account_sync(*account.ids)
    all_mail = folder_row(account, VIRTUAL_ALL_NAME)
    ctx = RowContext(owner.tenant_id, owner.user_id, account.account_id, all_mail.id, 1)
    fetched = [
        FetchedMessage(1, (), None, None, 0, message(2), gm_labels=("\\Inbox", "Work")),
        FetchedMessage(2, (), None, None, 0, message(3), gm_labels=("Work",)),  # archived: not INBOX
    ]
    with session_scope(owner.tenant_id) as session:
        store.insert_batch(session, all_mail.id, build_rows(ctx, fetched))
    ids = unscored_inbox_ids(owner.tenant_id, owner.user_id, account.account_id)
    with session_scope(owner.tenant_id) as session:
        subjects = set(session.scalars(select(Message.subject).where(Message.id.in_(ids))))
    assert subjects == {"message 1", "message 2"}


def test_spam_in_all_mail_labelled_inbox_moves_to_junk(
    owner: Caller, dovecot_factory: DovecotFactory
) -> None:
    """MOVE from the `\\All` folder to Junk, as Gmail's "report spam"; a row without \\Inbox stays."""
    user = new_user(dovecot_factory(virtual_all=True))
    user.server.seed_maildir(user.username, "Work", [phish()])
    account = make_account(owner, user)
    with session_scope(owner.tenant_id) as session:
        session.execute(
            update(EmailAccount).where(EmailAccount.id == account.account_id).values(move_spam_to_junk=True)
        )
    run_account_sync(*account.ids)
    client = imap(user)
    try:  # the message's coordinates in the virtual All mailbox, as All Mail's sync would store them
        validity = int(client.select_folder(VIRTUAL_ALL_NAME)[b"UIDVALIDITY"])
        (uid,) = client.search("ALL")
    finally:
        client.logout()
    all_mail = folder_row(account, VIRTUAL_ALL_NAME)
    ctx = RowContext(owner.tenant_id, owner.user_id, account.account_id, all_mail.id, validity)
    fetched = [
        FetchedMessage(uid, (), None, None, 0, phish(), gm_labels=("\\Inbox",)),
        FetchedMessage(uid + 100, (), None, None, 0, message(5), gm_labels=("Work",)),
    ]
    with session_scope(owner.tenant_id) as session:
        built = build_rows(ctx, fetched)
        store.insert_batch(session, all_mail.id, built)
    inbox_row, archived_row = (row["id"] for row in built.messages)
    outcome = move_spam_to_junk([inbox_row, archived_row], owner.tenant_id, owner.user_id)
    assert outcome.done == {inbox_row} and not outcome.failed
    assert server_subjects(user, "Junk") == [PHISH_SUBJECT] and server_subjects(user, "Work") == []
    assert [m.id for m in rows_in(account, "Junk")] == [inbox_row]
