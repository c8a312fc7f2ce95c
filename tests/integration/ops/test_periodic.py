"""periodic_sync selection and fan-out, and cleanup_stale_results, on PostgreSQL and Redis."""

from __future__ import annotations

import threading
from datetime import timedelta

import redis
from sqlalchemy import select, update

from email_service.accounts.model import EmailAccount
from email_service.accounts.service import create_account
from email_service.core.crypto import get_secret_box
from email_service.core.db import session_scope
from email_service.core.model_base import utcnow
from email_service.core.tasking.model import TaskRecord
from email_service.events.log import append_changes
from email_service.events.model import MESSAGE_UPDATED, Change
from email_service.ops.beat_guard import tick_key
from email_service.ops.cleanup import cleanup_stale_state
from email_service.ops.scheduling import SyncDispatch, dispatch_due_syncs
from email_service.sync.lock import lock_key
from tests.conftest import make_caller
from tests.integration.accounts.test_accounts_api import ACCOUNT
from tests.integration.core.queue_support import queue_list


def _account(tenant_id: str, user_id: str, **state: object) -> str:
    with session_scope(tenant_id) as session:
        account = create_account(session, get_secret_box(), tenant_id, user_id, dict(ACCOUNT))
        for name, value in state.items():
            setattr(account, name, value)
        return account.id


def test_selects_only_enabled_due_healthy_accounts(clean_db) -> None:
    caller = make_caller()
    t, u = caller.tenant_id, caller.user_id
    due = {_account(t, u), _account(t, u, next_sync_at=utcnow() - timedelta(seconds=1))}
    _account(t, u, next_sync_at=utcnow() + timedelta(minutes=3))
    _account(t, u, is_sync_enabled=False)
    _account(t, u, state="auth_error")
    _account(t, u, state="syncing")
    published: list[SyncDispatch] = []

    report = dispatch_due_syncs(published.extend)

    assert {d.account_id for d in published} == due
    assert (report.dispatched, report.skipped) == (2, 2)
    assert sorted(d.countdown for d in published) == [0.0, 0.05]
    with session_scope(system=True) as session:
        records = session.scalars(select(TaskRecord)).all()
        assert {(r.id, r.account_id, r.kind) for r in records} == {
            (d.task_id, d.account_id, "sync_emails") for d in published
        }
        claimed = session.scalars(select(EmailAccount).where(EmailAccount.id.in_(due))).all()
        assert all(a.next_sync_at and a.next_sync_at > utcnow() + timedelta(seconds=250) for a in claimed)
    assert dispatch_due_syncs(published.extend).dispatched == 0


def test_two_concurrent_ticks_never_dispatch_an_account_twice(clean_db) -> None:
    caller = make_caller()
    ids = {_account(caller.tenant_id, caller.user_id) for _ in range(40)}
    seen: list[SyncDispatch] = []
    lock = threading.Lock()

    def tick() -> None:
        def publish(batch: list[SyncDispatch]) -> None:
            with lock:
                seen.extend(batch)

        dispatch_due_syncs(publish)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(d.account_id for d in seen) == sorted(ids)


def test_periodic_task_publishes_sync_tasks_with_tenant_headers(clean_db) -> None:
    from email_service.ops.tasks import periodic_sync

    caller = make_caller()
    account_id = _account(caller.tenant_id, caller.user_id)
    client = redis.Redis.from_url(clean_db.redis_url)
    client.delete("sync", tick_key("periodic_sync"))
    result = periodic_sync.apply().get()
    assert result["status"] == "success" and result["dispatched"] == 1
    [message] = client.lrange("sync", 0, -1)
    assert account_id.encode() in message and caller.tenant_id.encode() in message
    assert result["task_ids"][0].encode() in message


def test_two_beats_fan_out_once_per_window(clean_db) -> None:
    """Two beat processes publish a tick each: one fans out, the other (same window) does nothing,
    even for accounts that became due again meanwhile (SQLite has no row locks to stop it)."""
    from email_service.ops.tasks import periodic_sync

    caller = make_caller()
    ids = {_account(caller.tenant_id, caller.user_id) for _ in range(30)}
    client = redis.Redis.from_url(clean_db.redis_url)
    client.delete("sync", tick_key("periodic_sync"))
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(periodic_sync.apply().get())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["status"] for r in results) == ["duplicate_tick", "success"]
    assert sum(r["dispatched"] for r in results) == len(ids)

    with session_scope(system=True) as session:
        session.execute(update(EmailAccount).values(next_sync_at=None))
    assert periodic_sync.apply().get()["status"] == "duplicate_tick"
    assert client.llen("sync") == len(ids)

    client.delete(tick_key("periodic_sync"))  # the window is over: the next tick runs
    assert periodic_sync.apply().get()["dispatched"] == len(ids)
    assert client.llen("sync") == 2 * len(ids)


def test_cleanup_prunes_old_records_and_frees_orphaned_syncs(clean_db) -> None:
    caller = make_caller()
    stuck = _account(caller.tenant_id, caller.user_id, state="syncing")
    live = _account(caller.tenant_id, caller.user_id, state="syncing")
    broker = redis.Redis.from_url(clean_db.redis_url)
    broker.set(lock_key(live), "token", ex=60)
    broker.set(lock_key("deleted-account"), "token", ex=60)
    results = redis.Redis.from_url(clean_db.redis_url.rsplit("/", 1)[0] + "/1")
    results.set("celery-task-meta-forever", "{}")
    with session_scope(system=True) as session:
        session.add_all(
            [
                TaskRecord(id="old", tenant_id=caller.tenant_id, user_id=caller.user_id, kind="sync_emails"),
                TaskRecord(id="new", tenant_id=caller.tenant_id, user_id=caller.user_id, kind="sync_emails"),
            ]
        )
        session.flush()
        session.execute(
            update(TaskRecord).where(TaskRecord.id == "old").values(created_at=utcnow() - timedelta(days=90))
        )
        owner = (caller.tenant_id, caller.user_id)
        append_changes(session, owner, MESSAGE_UPDATED, None, ["old-change", "new-change"])
    with session_scope(system=True) as session:  # the changes are written as their transaction commits
        session.execute(
            update(Change)
            .where(Change.object_id == "old-change")
            .values(created_at=utcnow() - timedelta(days=8))
        )

    report = cleanup_stale_state()

    assert report["task_records_removed"] == 1
    assert report["changes_removed"] == 1
    assert report["accounts_unstuck"] == 1 and report["locks_removed"] == 1
    assert report["results_expired"] >= 1 and 0 < results.ttl("celery-task-meta-forever") <= 3600
    with session_scope(system=True) as session:
        assert session.get(EmailAccount, stuck).state == "active"
        assert session.get(EmailAccount, live).state == "syncing"
        assert [r.id for r in session.scalars(select(TaskRecord))] == ["new"]


def test_tick_republishes_sends_whose_queue_message_was_lost(clean_db) -> None:
    """A Redis restart without persistence drops queued sends; the next tick publishes them again,
    and releases scheduled sends that are due."""
    from email_service.ops.tasks import periodic_sync
    from email_service.sending.model import OutboxMessage

    caller = make_caller()
    account_id = _account(caller.tenant_id, caller.user_id, is_sync_enabled=False)
    old, overdue = utcnow() - timedelta(minutes=30), utcnow() - timedelta(minutes=20)
    rows = {
        "lost": ("queued", old, None),
        "fresh": ("queued", utcnow(), None),
        "overdue-scheduled": ("scheduled", old, overdue),
        "future-scheduled": ("scheduled", old, utcnow() + timedelta(hours=1)),
        "done": ("sent", old, None),
    }
    with session_scope(caller.tenant_id) as session:
        for key, (status, updated, send_at) in rows.items():
            session.add(OutboxMessage(
                id=f"{key}-{caller.user_id}", tenant_id=caller.tenant_id, user_id=caller.user_id,
                account_id=account_id, status=status, send_at=send_at,
                request={"to": ["a@example.test"], "subject": key}, updated_at=updated,
            ))  # fmt: skip
        session.flush()
        session.execute(update(OutboxMessage).values(updated_at=old).where(OutboxMessage.status != "queued"))
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.startswith("lost")).values(updated_at=old)
        )
    client = redis.Redis.from_url(clean_db.redis_url)
    send_list = queue_list("send")
    client.delete(send_list, tick_key("periodic_sync"))

    result = periodic_sync.apply().get()

    # The queued row whose message was lost is published again; the scheduled row that was never
    # published (it waited in the database) is released; the one an hour ahead still waits.
    assert result["requeued_sends"] == [f"lost-{caller.user_id}"]
    assert result["released_sends"] == [f"overdue-scheduled-{caller.user_id}"]
    expected = {f"lost-{caller.user_id}", f"overdue-scheduled-{caller.user_id}"}
    queued = client.lrange(send_list, 0, -1)
    assert len(queued) == 2 and all(any(i.encode() in m for i in expected) for m in queued)
    assert all(caller.tenant_id.encode() in m and account_id.encode() in m for m in queued)
