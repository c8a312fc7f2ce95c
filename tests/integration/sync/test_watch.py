"""The IDLE watcher against the suite's real Dovecot and Redis: a change starts a sync of the folder,
push_enabled off means no connection, refused credentials park the account."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from sqlalchemy import select

from email_service.accounts.model import EmailAccount
from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.sync.watch.leases import lease_key
from email_service.sync.watch.runner import Watcher, WatchOptions
from tests.integration.sync.sync_support import imap, make_account, message


def _options(debounce_seconds: float = 0.2) -> WatchOptions:
    return WatchOptions(
        lease_seconds=3,
        poll_seconds=1,
        debounce_seconds=debounce_seconds,
        host_cap=100,
        starts_per_second=100,
    )


@contextlib.contextmanager
def _running(options: WatchOptions) -> Iterator[Watcher]:
    w = Watcher(options)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(w.run(),), daemon=True)
    thread.start()
    try:
        yield w
    finally:
        loop.call_soon_threadsafe(w.stop)
        thread.join(20)
    assert not thread.is_alive()


@pytest.fixture
def watcher(clean_db) -> Iterator[Watcher]:
    with _running(_options()) as w:
        yield w


def _until(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def _sync_tasks(tenant_id: str, account_id: str) -> int:
    with session_scope(tenant_id) as session:
        query = select(TaskRecord.id).where(TaskRecord.account_id == account_id)
        return len(session.scalars(query).all())


def test_append_starts_a_sync_of_the_folder(watcher, owner, imap_user) -> None:
    account = make_account(owner, imap_user)
    _until(lambda: (account.account_id, "INBOX") in watcher.connected)
    assert _sync_tasks(owner.tenant_id, account.account_id) == 0
    client = imap(imap_user)
    client.append("INBOX", message(1))
    client.logout()
    _until(lambda: _sync_tasks(owner.tenant_id, account.account_id) >= 1)


def test_push_disabled_account_gets_no_connection(watcher, owner, imap_user, dovecot) -> None:
    from tests.servers.dovecot_fixtures import new_user

    on = make_account(owner, new_user(dovecot))
    off = make_account(owner, imap_user)
    with session_scope(owner.tenant_id) as session:
        session.get(EmailAccount, off.account_id).push_enabled = False  # type: ignore[union-attr]
    _until(lambda: (on.account_id, "INBOX") in watcher.connected)
    time.sleep(1.5)
    assert off.account_id not in watcher.held


def test_refused_login_parks_the_account(watcher, owner, imap_user) -> None:
    account = make_account(owner, imap_user, password="wrong-password")

    def parked() -> bool:
        with session_scope(owner.tenant_id) as session:
            row = session.get(EmailAccount, account.account_id)
            return row is not None and row.state == "auth_error"

    _until(parked)
    _until(lambda: account.account_id not in watcher.held)


def test_two_watchers_split_accounts_and_one_stopping_hands_over(clean_db, owner, dovecot) -> None:
    from tests.servers.dovecot_fixtures import new_user

    ids = {make_account(owner, new_user(dovecot)).account_id for _ in range(6)}
    watchers, loops, threads = [Watcher(_options()), Watcher(_options())], [], []
    for w in watchers:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_until_complete, args=(w.run(),), daemon=True)
        thread.start()
        loops.append(loop)
        threads.append(thread)
    try:

        def split() -> bool:
            first, second = set(watchers[0].held), set(watchers[1].held)
            return bool(first and second) and first | second == ids

        _until(split, 15)  # the second to join takes the accounts rendezvous hashing gives it
        _until(lambda: all(len({a for a, _ in w.connected}) == len(w.held) for w in watchers), 15)
        assert not set(watchers[0].held) & set(watchers[1].held)
        first_held = list(watchers[0].held)
        loops[0].call_soon_threadsafe(watchers[0].stop)
        threads[0].join(20)
        leases = redis.Redis.from_url(get_settings().broker_url)
        left = [
            v for v in leases.mget([lease_key(i) for i in first_held]) if v == watchers[0].member.encode()
        ]
        assert left == []  # a graceful stop releases its leases: no wait for them to lapse
        _until(lambda: set(watchers[1].held) == ids, 20)
    finally:
        for w, loop, thread in zip(watchers, loops, threads, strict=True):
            loop.call_soon_threadsafe(w.stop)
            thread.join(20)


def test_first_change_syncs_at_once_and_a_burst_waits_for_the_window(clean_db, owner, imap_user) -> None:
    """Leading-edge debounce: with a 30 s window the first APPEND still starts a sync within seconds;
    the next one inside the window is held for its end instead of starting another."""
    account = make_account(owner, imap_user)
    with _running(_options(debounce_seconds=30)) as w:
        _until(lambda: (account.account_id, "INBOX") in w.connected)
        client = imap(imap_user)
        client.append("INBOX", message(1))
        _until(lambda: _sync_tasks(owner.tenant_id, account.account_id) >= 1, 3)
        client.append("INBOX", message(2))
        client.logout()
        time.sleep(3)
        assert w.triggered == 1
