"""Push under faults (real Dovecot, Redis, Celery workers and `email-service watch` processes): a killed
watcher's accounts resumed by another, every IDLE back after a Dovecot restart, a webhook receiver that
is away and comes back, and the change log, the feed and the webhooks counted against each other."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.events.log import append_changes
from email_service.events.model import Change
from email_service.events.webhooks.model import WebhookDelivery
from email_service.events.webhooks.registry import create_webhook
from email_service.sync.watch.leases import lease_key
from email_service.sync.watch.runner import Watcher, WatchOptions
from tests.conftest import Caller, ServerSet
from tests.integration.sync.sync_support import SyncAccount, imap, make_account, message, uids
from tests.reliability.conftest import WorkerFactory
from tests.reliability.imap_support import server_uids
from tests.reliability.scoreboard import ScenarioCount
from tests.reliability.waits import wait_for, wait_task
from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user
from tests.servers.processes import ALL_QUEUES, BIN, stop_process
from tests.servers.redis_server import RedisServer
from tests.servers.webhook_receiver import WebhookReceiver, handler_for

TAKEOVER_BOUND_SECONDS = 60.0  # "resumed by another within a minute"
RECONNECT_BOUND_SECONDS = 60.0  # "every IDLE back within a minute"


# -- helpers ------------------------------------------------------------------------------------------


class WatcherProcess:
    """`email-service watch` as its own process, with the production lease and poll times."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "email-service"), "watch"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _sync_times(tenant_id: str, account_id: str) -> list[datetime]:
    with session_scope(tenant_id) as session:
        query = select(TaskRecord.created_at).where(TaskRecord.account_id == account_id)
        return [t if t.tzinfo else t.replace(tzinfo=UTC) for t in session.scalars(query).all()]


def _lease_owners(client: redis.Redis, account_ids: list[str]) -> dict[str, str | None]:
    values = client.mget([lease_key(a) for a in account_ids])
    return {a: v.decode() if v else None for a, v in zip(account_ids, values, strict=True)}


def _pid_of(member: str | None) -> int | None:
    return int(member.split(":")[1]) if member else None  # members are host:pid:random


@pytest.fixture
def watcher_env(servers: ServerSet, private_broker: RedisServer) -> dict[str, str]:
    return {**os.environ, **servers.env, "REDIS_URL": private_broker.url}


# -- a killed watcher -----------------------------------------------------------------------------------


def test_killed_watchers_accounts_are_resumed_by_another_within_a_minute(
    owner: Caller,
    dovecot: DovecotServer,
    private_broker: RedisServer,
    watcher_env: dict[str, str],
    tmp_path: Path,
    scenario: ScenarioCount,
) -> None:
    """Two watchers split eight accounts; SIGKILL the one holding more. With the default lease (30 s) and
    poll (10 s) the survivor must take them over, and mail appended to each (every 2 s from the kill on)
    must start a sync of it within a minute of the kill."""
    users = [new_user(dovecot) for _ in range(8)]
    accounts = [make_account(owner, user) for user in users]
    ids = [a.account_id for a in accounts]
    watchers = [WatcherProcess(watcher_env, tmp_path / f"watch-{i}.log") for i in range(2)]
    client = redis.Redis.from_url(private_broker.url)
    try:
        pids = {w.proc.pid for w in watchers}

        def split() -> bool:
            owners = {_pid_of(m) for m in _lease_owners(client, ids).values()}
            return owners == pids  # every account leased, both watchers holding some

        wait_for(split, 90, "both watchers to hold accounts", interval=0.5)
        time.sleep(2)  # let the IDLE connections settle before the kill
        held = _lease_owners(client, ids)
        victim = max(watchers, key=lambda w: sum(_pid_of(m) == w.proc.pid for m in held.values()))
        survivor = next(w for w in watchers if w is not victim)
        orphans = [a for a in accounts if _pid_of(held[a.account_id]) == victim.proc.pid]
        killed_at = datetime.now(UTC)
        started = time.monotonic()
        victim.kill()

        resumed: dict[str, float] = {}
        counter = 0
        while len(resumed) < len(orphans) and time.monotonic() - started < TAKEOVER_BOUND_SECONDS + 30:
            for account in orphans:
                if account.account_id in resumed:
                    continue
                if any(t > killed_at for t in _sync_times(owner.tenant_id, account.account_id)):
                    resumed[account.account_id] = time.monotonic() - started
                    continue
                counter += 1
                dovecot.append(account.user.username, "INBOX", [message(1000 + counter)])
            time.sleep(2)
        owners_after = _lease_owners(client, ids)
        scenario.compare("orphaned accounts resumed", [a.account_id for a in orphans], list(resumed))
        scenario.notes.append(
            f"{len(orphans)} orphans; slowest resumed {max(resumed.values(), default=float('nan')):.1f}s"
        )
        assert survivor.proc.poll() is None, survivor.tail()
        assert len(resumed) == len(orphans), (resumed, survivor.tail())
        assert max(resumed.values()) <= TAKEOVER_BOUND_SECONDS, resumed
        assert {_pid_of(m) for m in owners_after.values()} == {survivor.proc.pid}
    finally:
        for w in watchers:
            if w.proc.poll() is None:
                stop_process(w.proc)
        client.close()


# -- Dovecot restarted ----------------------------------------------------------------------------------


@pytest.fixture
def in_process_watcher(private_broker: RedisServer) -> Iterator[Watcher]:
    """The watcher in a thread of this process (its `connected` set is what is observed)."""
    import asyncio

    watcher = Watcher(
        WatchOptions(
            lease_seconds=30, poll_seconds=10, debounce_seconds=1.0, host_cap=1000, starts_per_second=50
        )
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(watcher.run(),), daemon=True)
    thread.start()
    yield watcher
    loop.call_soon_threadsafe(watcher.stop)
    thread.join(30)
    assert not thread.is_alive()


def test_dovecot_restart_brings_every_idle_back_within_a_minute(
    owner: Caller,
    dovecot_factory: DovecotFactory,
    spawn_worker: WorkerFactory,
    in_process_watcher: Watcher,
    scenario: ScenarioCount,
) -> None:
    """Twenty accounts IDLE on a private Dovecot, which is restarted on the same ports with mail delivered
    into the maildirs while it was down: every IDLE must be back within a minute, the catch-up syncs must
    bring in what arrived meanwhile, and an APPEND after the restart must still be pushed."""
    server = dovecot_factory()
    users = [new_user(server) for _ in range(20)]
    accounts = [make_account(owner, user) for user in users]
    spawn_worker("sync")
    expected = {(a.account_id, "INBOX") for a in accounts}
    wait_for(lambda: expected <= in_process_watcher.connected, 60, "every account to IDLE", interval=0.2)

    server.stop()
    wait_for(lambda: not expected & in_process_watcher.connected, 30, "the watcher to see the drop")
    for i, user in enumerate(users):  # delivered while IMAP was down
        server.seed_maildir(user.username, "INBOX", [message(i)])
    started = time.monotonic()
    server.start(same_ports=True)
    wait_for(lambda: expected <= in_process_watcher.connected, 90, "every IDLE back", interval=0.1)
    back = time.monotonic() - started

    def caught_up(account: SyncAccount, user: ImapUser) -> bool:
        return uids(account) == server_uids(user)

    wait_for(lambda: all(caught_up(a, u) for a, u in zip(accounts, users, strict=True)), 60, "catch-up")
    for i, user in enumerate(users):  # and push still works on the new connections
        client = imap(user)
        client.append("INBOX", message(100 + i))
        client.logout()
    wait_for(lambda: all(caught_up(a, u) for a, u in zip(accounts, users, strict=True)), 60, "pushed")
    pairs = list(zip(accounts, users, strict=True))
    on_server = [(u.username, uid) for _, u in pairs for uid in server_uids(u)]
    scenario.compare("INBOX messages", on_server, [(u.username, uid) for a, u in pairs for uid in uids(a)])
    scenario.notes.append(f"all {len(accounts)} IDLE back {back:.1f}s after the restart")
    assert back <= RECONNECT_BOUND_SECONDS, back


# -- a webhook receiver away, and counting the change log, the feed and the webhooks --------------------


class AwayReceiver:
    """A webhook receiver on a fixed port that can go away (connections refused) and come back."""

    def __init__(self) -> None:
        self.state = WebhookReceiver(ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler))
        self.port = self.state.server.server_address[1]
        self.state.server.RequestHandlerClass = handler_for(self.state)
        self._thread = self._serve()

    @property
    def url(self) -> str:
        return self.state.url

    def _serve(self) -> threading.Thread:
        thread = threading.Thread(target=self.state.server.serve_forever, daemon=True)
        thread.start()
        return thread

    def down(self) -> None:
        self.state.server.shutdown()
        self.state.server.server_close()
        self._thread.join(10)

    def up(self) -> None:
        self.state.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler_for(self.state))
        self._thread = self._serve()

    def event_ids(self) -> list[str]:
        with self.state.lock:
            return [json.loads(r.body)["data"]["id"] for r in self.state.received]

    def delivery_ids(self) -> list[str]:
        with self.state.lock:
            return [r.headers["webhook-id"] for r in self.state.received]


@pytest.fixture
def away_receiver() -> Iterator[AwayReceiver]:
    receiver = AwayReceiver()
    yield receiver
    receiver.down()


def _logged_seqs(owner: Caller) -> list[str]:
    with session_scope(owner.tenant_id) as session:
        query = select(Change.seq).where(Change.user_id == owner.user_id).order_by(Change.seq)
        return [str(seq) for seq in session.scalars(query).all()]


def _logged_types(owner: Caller) -> Counter[str]:
    with session_scope(owner.tenant_id) as session:
        return Counter(session.scalars(select(Change.type).where(Change.user_id == owner.user_id)).all())


def _delivery_states(owner: Caller) -> list[tuple[str, int, str | None]]:
    with session_scope(owner.tenant_id) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.change_seq)).all()
        return [(r.status, r.attempts, r.last_error) for r in rows]


def _feed_ids(client: Any, owner: Caller) -> list[str]:
    ids: list[str] = []
    cursor = "0"
    while True:
        page = client.get(f"/api/changes?since={cursor}&limit=37", headers=owner.headers).get_json()
        ids += [c["id"] for c in page["changes"]]
        if not page["changes"]:
            return ids
        cursor = page["next_cursor"]


# The production waits (30 s, 2 min, 5 min, 15 min, ...) divided by 60, so the ten minutes away take ten
# seconds: the same number of attempts meets the outage at the same points of the schedule.
COMPRESSED_WAITS = "0.5,2,5,15,30,60,120,240"
AWAY_SECONDS = 10.0


def test_receiver_away_ten_minutes_gets_every_event_once_back(
    client: Any,
    owner: Caller,
    away_receiver: AwayReceiver,
    spawn_worker: WorkerFactory,
    scenario: ScenarioCount,
) -> None:
    """Events keep coming while the receiver is down (time compressed 60 times: ten minutes are ten seconds);
    once it is back every event arrives, each under its own webhook-id, none twice."""
    with session_scope(owner.tenant_id) as session:
        create_webhook(session, (owner.tenant_id, owner.user_id), away_receiver.url, ["*"])
    worker = spawn_worker("webhooks", WEBHOOK_RETRY_SECONDS=COMPRESSED_WAITS)
    owner_key = (owner.tenant_id, owner.user_id)
    with session_scope(owner.tenant_id) as session:
        append_changes(session, owner_key, "message.created", None, ["before-0", "before-1"])
    wait_for(lambda: len(away_receiver.event_ids()) == 2, 30, "the first events")

    away_receiver.down()
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < AWAY_SECONDS:  # a change every half second while it is away
        with session_scope(owner.tenant_id) as session:
            append_changes(session, owner_key, "message.created", None, [f"away-{n}"])
        n += 1
        time.sleep(0.5)
    away_receiver.up()
    logged = _logged_seqs(owner)
    try:
        wait_for(lambda: set(away_receiver.event_ids()) >= set(logged), 120, "every event after the outage")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {_delivery_states(owner)}\n{worker.tail()}") from None
    time.sleep(2)  # a late duplicate would arrive now

    received = away_receiver.event_ids()
    scenario.compare("webhook events", logged, received)
    scenario.compare("change log vs feed", logged, _feed_ids(client, owner))
    assert len(logged) == n + 2 and n >= 15
    assert sorted(received, key=int) == logged  # each once
    assert len(set(away_receiver.delivery_ids())) == len(received)


def test_a_change_is_never_lost_between_the_log_the_feed_and_the_webhooks(
    client: Any,
    owner: Caller,
    imap_user: ImapUser,
    away_receiver: AwayReceiver,
    spawn_worker: WorkerFactory,
    scenario: ScenarioCount,
) -> None:
    """Real flows write the changes — two syncs through a worker, flag changes and a soft delete over
    the API — and every change in the log must be in the feed and reach the webhook, once each."""
    from email_service.core.model_base import new_id
    from email_service.core.tasking.start import publish_task

    with session_scope(owner.tenant_id) as session:
        create_webhook(session, (owner.tenant_id, owner.user_id), away_receiver.url, ["*"])
    spawn_worker(ALL_QUEUES)
    account = make_account(owner, imap_user)
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(40)])

    def sync() -> None:
        body = {"email_client_id": account.account_id}
        status = wait_task(publish_task("sync_emails", new_id(), owner.tenant_id, owner.user_id, body))
        assert status["status"] == "success", status

    sync()
    listed = client.get("/api/email/messages?limit=50", headers=owner.headers).get_json()
    message_ids = [m["id"] for m in listed["items"]]
    for message_id in message_ids[:5]:
        reply = client.patch(
            f"/api/email/messages/{message_id}", json={"is_read": True}, headers=owner.headers
        )
        assert reply.status_code in (200, 202), reply.get_json()
    deleted = client.post(
        "/api/email/delete", json={"email_ids": message_ids[5:10], "permanent": False}, headers=owner.headers
    )
    assert deleted.status_code == 202, deleted.get_json()
    wait_task(deleted.get_json()["taskId"])
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(100 + i) for i in range(10)])
    sync()

    logged = _logged_seqs(owner)
    wait_for(lambda: set(away_receiver.event_ids()) >= set(logged), 60, "every change at the webhook")
    time.sleep(1)
    feed, received = _feed_ids(client, owner), away_receiver.event_ids()
    scenario.compare("change log vs feed", logged, feed)
    scenario.compare("change log vs webhooks", logged, received)
    types = _logged_types(owner)
    scenario.notes.append(f"{len(logged)} changes counted: {dict(sorted(types.items()))}")
    # The first sync imports the 40 as one folder.changed (no flood of creates); the second's 10 are
    # created one by one; 5 read and 5 deleted; a task.completed per finished task.
    assert types["folder.changed"] >= 1 and types["message.created"] == 10, types
    assert types["message.updated"] >= 5 and types["message.deleted"] == 5, types
    assert types["task.completed"] >= 3, types
    assert feed == logged
    assert sorted(received, key=int) == logged
