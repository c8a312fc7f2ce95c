"""A trigger for an account with a sync queued or running answers with that task (real Redis, no worker)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.core.tasking.outcomes import record_outcome
from tests.attack_report import Attack
from tests.conftest import Caller
from tests.integration.accounts.test_accounts_api import create
from tests.integration.core.queue_support import queue_list
from tests.integration.notifications.notification_support import environment


def trigger(client: Any, caller: Caller, account_id: str, **extra: Any) -> str:
    response = client.post(
        "/api/email/sync", json={"email_client_id": account_id, **extra}, headers=caller.headers
    )
    assert response.status_code == 202, response.get_json()
    task_id: str = response.get_json()["taskId"]
    return task_id


def queued(servers: Any) -> int:
    return int(redis.Redis.from_url(servers.redis_url).llen(queue_list("sync")))


def sync_records(caller: Caller) -> list[str]:
    with session_scope(caller.tenant_id) as session:
        return list(session.scalars(select(TaskRecord.id).where(TaskRecord.kind == "sync_emails")))


def test_a_burst_of_triggers_queues_one_sync(app: Any, owner: Caller, clean_db: Any, attack: Attack) -> None:
    redis.Redis.from_url(clean_db.redis_url).delete(queue_list("sync"))
    account = create(app.test_client(), owner)

    def one(_: int) -> str:
        return trigger(app.test_client(), owner, account["id"])

    # Above the trigger rate limit (test_rate_limits.py): this is about deduplication alone.
    with environment(SYNC_TRIGGER_LIMIT_USER="1000/minute"), ThreadPoolExecutor(8) as pool:
        task_ids = set(pool.map(one, range(300)))
    attack("300 sync triggers of one account from 8 threads: syncs queued", queued(clean_db), 1, "tasks")
    assert len(task_ids) == 1
    assert sync_records(owner) == list(task_ids)


def test_a_finished_sync_lets_the_next_trigger_queue_another(client: Any, owner: Caller) -> None:
    account = create(client, owner)
    first = trigger(client, owner, account["id"])
    assert trigger(client, owner, account["id"]) == first
    assert record_outcome(owner.tenant_id, first, "success", {"status": "success"})
    second = trigger(client, owner, account["id"])
    assert second != first
    assert trigger(client, owner, account["id"]) == second


def test_other_targets_get_their_own_sync(
    client: Any, owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller
) -> None:
    mine, theirs, stranger = (
        create(client, owner),
        create(client, same_tenant_other_user),
        create(client, other_tenant),
    )
    whole = trigger(client, owner, mine["id"])
    full = trigger(client, owner, mine["id"], force_full_sync=True)
    others = {
        trigger(client, same_tenant_other_user, theirs["id"]),
        trigger(client, other_tenant, stranger["id"]),
    }
    assert len({whole, full, *others}) == 4


def test_another_users_account_is_404_and_never_answers_with_their_task(
    client: Any, owner: Caller, other_tenant: Caller
) -> None:
    account = create(client, owner)
    trigger(client, owner, account["id"])
    response = client.post(
        "/api/email/sync", json={"email_client_id": account["id"]}, headers=other_tenant.headers
    )
    assert response.status_code == 404 and "taskId" not in (response.get_json() or {})
