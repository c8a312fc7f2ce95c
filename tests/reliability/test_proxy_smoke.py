"""The fault proxy against real Dovecot: a connection cut during a large FETCH loses and duplicates
nothing (the next sync completes with exact counts); stall and bandwidth limits behave as asked."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import func, select

from email_service.core.db import session_scope
from email_service.mail.imap.client import ImapConnectionError
from email_service.messages.model import Message
from email_service.sync.plan import SyncOptions
from email_service.sync.service import run_account_sync
from tests.conftest import Caller
from tests.integration.sync.sync_support import imap, make_account, message, uids
from tests.reliability.conftest import ProxyFactory
from tests.reliability.scoreboard import ScenarioCount
from tests.servers.dovecot_fixtures import ImapUser

LINE = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n"


def server_uids(user: ImapUser) -> list[int]:
    client = imap(user)
    try:
        client.select_folder("INBOX", readonly=True)
        return sorted(client.search("ALL"))
    finally:
        client.logout()


def test_cut_during_large_fetch_then_next_sync_is_exact(
    owner: Caller, imap_user: ImapUser, tcp_proxy: ProxyFactory, scenario: ScenarioCount
) -> None:
    total = 600  # ~4.5 KB each, ~2.7 MB of FETCH in batches of 100
    imap_user.server.seed_maildir(
        imap_user.username, "INBOX", [message(i, body=LINE * 60) for i in range(total)]
    )
    proxy = tcp_proxy(imap_user.port)
    account = make_account(owner, imap_user, port=proxy.port)
    options = SyncOptions(batch_size=100)

    proxy.cut_after(1_200_000, "down")
    with pytest.raises(ImapConnectionError):
        run_account_sync(*account.ids, options=options)
    assert (proxy.counters.cuts, proxy.counters.connections) == (1, 1)
    assert proxy.counters.bytes_down >= 1_200_000
    partial = len(uids(account))
    assert 0 < partial < total  # batches before the cut were committed, the rest was not

    result = run_account_sync(*account.ids, options=options)
    stored = uids(account)
    scenario.compare("INBOX messages", server_uids(imap_user), stored)
    assert stored == server_uids(imap_user) and len(stored) == len(set(stored)) == total
    assert result.messages_synced == total - partial
    with session_scope(owner.tenant_id) as session:
        assert session.scalar(select(func.count()).select_from(Message)) == total
    assert proxy.counters.connections == 2 and proxy.counters.cuts == 1


def test_stall_and_slow(imap_user: ImapUser, tcp_proxy: ProxyFactory) -> None:
    proxy = tcp_proxy(imap_user.port)
    with socket.create_connection((proxy.host, proxy.port), timeout=5) as sock:
        greeting = sock.recv(4096)
        assert greeting.startswith(b"* OK")
        proxy.stall()
        sock.sendall(b"a1 NOOP\r\n")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(4096)
        proxy.resume()
        sock.settimeout(5)
        noop = sock.recv(4096)
        assert b"a1 OK" in noop
        proxy.slow(2000)  # bytes per second: a ~1 KB CAPABILITY reply now takes ~0.5 s
        started = time.monotonic()
        sock.sendall(b"a2 CAPABILITY\r\n")
        reply = b""
        while b"a2 OK" not in reply:
            reply += sock.recv(4096)
        assert time.monotonic() - started > 0.5 * len(reply) / 2000
    deadline = time.monotonic() + 10
    while proxy.counters.active and time.monotonic() < deadline:  # counters settle when the link ends
        time.sleep(0.05)
    assert proxy.counters.bytes_up == len(b"a1 NOOP\r\na2 CAPABILITY\r\n")
    assert proxy.counters.bytes_down == len(greeting) + len(noop) + len(reply)
