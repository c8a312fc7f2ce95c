"""Without CONDSTORE, flag changes on recent mail show at the next sync, not after the 30-minute scan.

Every sync compares the flags of the newest SYNC_RECENT_FLAGS_WINDOW messages; older ones wait for the
full scan, which still runs on its schedule.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from email_service.core.config import reset_settings
from email_service.sync.plan import SyncOptions
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sync.sync_support import (
    NO_CONDSTORE,
    SyncAccount,
    imap,
    make_account,
    message,
    rows,
    summary,
)
from tests.servers.dovecot_fixtures import DovecotFactory, new_user


@pytest.fixture
def plain_account(owner: Caller, dovecot_factory: DovecotFactory) -> SyncAccount:
    """An account on a Dovecot without CONDSTORE, its 5 messages already mirrored."""
    user = new_user(dovecot_factory(capabilities=NO_CONDSTORE))
    account = make_account(owner, user)
    user.server.append(user.username, "INBOX", [message(i) for i in range(1, 6)])
    assert summary(run_account_sync(*account.ids)) == (5, 0, 0)
    return account


def _flag(account: SyncAccount, flags: dict[int, str]) -> None:
    """Change flags with another client, behind the mirror's back."""
    with imap(account.user) as client:  # type: ignore[arg-type]
        client.select_folder("INBOX")
        for uid, flag in flags.items():
            client.add_flags([uid], [flag])


def test_a_flag_change_on_recent_mail_shows_at_the_next_sync(plain_account: SyncAccount) -> None:
    _flag(plain_account, {5: "\\Flagged", 4: "\\Seen"})
    result = run_account_sync(*plain_account.ids)
    assert summary(result) == (0, 2, 0)
    assert [(m.is_read, m.is_flagged) for m in rows(plain_account)][3:] == [(True, False), (False, True)]


def test_older_mail_waits_for_the_full_scan(plain_account: SyncAccount) -> None:
    _flag(plain_account, {1: "\\Flagged", 5: "\\Seen"})
    window = SyncOptions(recent_flags_window=2)
    assert summary(run_account_sync(*plain_account.ids, options=window)) == (0, 1, 0)
    assert [m.is_flagged for m in rows(plain_account)] == [False] * 5
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31), tick=True):
        assert summary(run_account_sync(*plain_account.ids, options=window)) == (0, 1, 0)
    assert [m.is_flagged for m in rows(plain_account)] == [True, False, False, False, False]


@pytest.fixture
def window_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SYNC_RECENT_FLAGS_WINDOW", "0")
    reset_settings()
    yield
    monkeypatch.delenv("SYNC_RECENT_FLAGS_WINDOW")
    reset_settings()


def test_the_window_comes_from_the_setting(plain_account: SyncAccount, window_off: None) -> None:
    _flag(plain_account, {5: "\\Flagged"})
    result = run_account_sync(*plain_account.ids)
    assert summary(result) == (0, 0, 0) and result.folders_synced == 0
