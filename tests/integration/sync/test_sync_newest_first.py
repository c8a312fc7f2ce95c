"""A first sync stores the newest messages before the rest, on a real Dovecot (both backends).

The listing fills with today's mail first; the checkpoint only ever covers UIDs whose every
predecessor is stored, so a sync stopped between the two passes resumes with nothing lost or doubled.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis

from email_service.core.model_base import new_id
from email_service.sync.cancel import request_cancel
from email_service.sync.plan import SyncOptions
from email_service.sync.service import run_account_sync
from tests.conftest import Caller, ServerSet
from tests.integration.sync.sync_support import SyncAccount, folder_row, make_account, message, uids
from tests.servers.dovecot_fixtures import ImapUser

TOTAL, NEWEST, BATCH = 60, 20, 10


@pytest.fixture
def account(owner: Caller, imap_user: ImapUser) -> SyncAccount:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(TOTAL)])
    return make_account(owner, imap_user)


def options() -> SyncOptions:
    return SyncOptions(batch_size=BATCH, parse_workers=0, newest_first=NEWEST)


def test_the_newest_are_listable_first_and_the_checkpoint_waits_for_the_rest(account: SyncAccount) -> None:
    seen: list[tuple[int, list[int], int]] = []

    def progress(meta: dict[str, Any]) -> None:
        if meta.get("folder") == "INBOX":
            seen.append((meta["done"], uids(account), folder_row(account).synced_uid))

    result = run_account_sync(*account.ids, options=options(), progress=progress)

    assert result.status == "success" and result.messages_synced == TOTAL
    newest = list(range(TOTAL - NEWEST + 1, TOTAL + 1))
    assert seen[0] == (BATCH, newest[:BATCH], 0)
    assert seen[1] == (NEWEST, newest, 0)  # listable before any older message, no checkpoint yet
    assert seen[2] == (NEWEST + BATCH, [*range(1, BATCH + 1), *newest], BATCH)
    assert [done for done, _, _ in seen] == list(range(BATCH, TOTAL + 1, BATCH))
    assert uids(account) == list(range(1, TOTAL + 1))
    assert folder_row(account).synced_uid == TOTAL


def test_a_sync_stopped_after_the_newest_resumes_without_loss_or_duplicates(
    account: SyncAccount, servers: ServerSet
) -> None:
    broker = redis.Redis.from_url(servers.redis_url)
    run_id = new_id()

    def progress(meta: dict[str, Any]) -> None:
        if meta.get("folder") == "INBOX" and meta["done"] >= NEWEST:
            request_cancel(broker, run_id)

    stopped = run_account_sync(*account.ids, options=options(), progress=progress, run_id=run_id)
    assert stopped.status == "revoked" and stopped.messages_synced == NEWEST
    assert uids(account) == list(range(TOTAL - NEWEST + 1, TOTAL + 1))
    assert folder_row(account).synced_uid == 0

    again = run_account_sync(*account.ids, options=options(), run_id=new_id())
    assert again.status == "success" and again.messages_synced == TOTAL - NEWEST
    assert uids(account) == list(range(1, TOTAL + 1))
    assert folder_row(account).synced_uid == TOTAL
    assert run_account_sync(*account.ids, options=options()).messages_synced == 0
