"""Starting a sync for the API: the account (and folder) must be the caller's, then the task is queued.

A trigger for a target that already has a sync queued or running answers with that task (sync/pending.py).
"""

from __future__ import annotations

import contextlib

import redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from email_service.accounts.service import get_account
from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.core.errors import NotFound, ServiceUnavailable
from email_service.core.model_base import new_id
from email_service.core.tasking.outcomes import FINAL_STATUSES
from email_service.core.tasking.records import get_task, record_task
from email_service.core.tasking.start import publish_recorded
from email_service.core.tasking.status import get_task_status
from email_service.core.tenancy.tokens import Identity
from email_service.messages.folders import get_folder
from email_service.sync.lock import redis_client
from email_service.sync.pending import Claim, claim_sync, pending_key, release_sync

_CLAIM_ATTEMPTS = 3


def request_sync(
    caller: Identity,
    account_id: str,
    folder_id: str | None,
    force_full_sync: bool,
    *,
    task_id: str | None = None,
) -> str:
    """The new task's id (`task_id` when given, so the caller can tell it from a running one), or the
    unfinished one already queued for this target; another user's account or folder is a 404; Redis
    away is a 503 with nothing recorded."""
    tenant_id, user_id = caller.tenant_id, caller.user_id
    settings = get_settings()
    client = redis_client(settings.broker_url)
    mine = Claim.now(task_id or new_id())
    try:
        with session_scope(tenant_id) as session:
            account = get_account(session, account_id, tenant_id, user_id)
            if folder_id is not None:
                get_folder(session, folder_id, tenant_id, user_id, account_id=account.id)
            key = pending_key(account.id, folder_id, force_full_sync)
            holder = _claim(client, session, caller, key, mine, settings.sync_lock_ttl_seconds)
            if holder is not None:
                return holder
            record_task(
                session, tenant_id, user_id, "sync_emails", account_id=account.id, task_id=mine.task_id
            )
    except RedisError as exc:
        raise ServiceUnavailable("task queue is unavailable, try again shortly") from exc
    kwargs = {"email_client_id": account_id, "folder_id": folder_id, "force_full_sync": force_full_sync}
    try:
        return publish_recorded(caller, "sync_emails", mine.task_id, kwargs)
    except ServiceUnavailable:
        _release_quietly(client, key, mine)
        raise


def _claim(
    client: redis.Redis, session: Session, caller: Identity, key: str, mine: Claim, ttl_seconds: int
) -> str | None:
    """None when mine holds the target now; else the id of the unfinished task that holds it."""
    replacing: Claim | None = None
    holder: Claim | None = None
    for _ in range(_CLAIM_ATTEMPTS):
        holder = claim_sync(client, key, mine, ttl_seconds, replacing)
        if holder is None:
            return None
        if _unfinished(session, caller, holder):
            return holder.task_id
        replacing = holder
    # Each failed attempt met a newer claim than the last: the target is being (re)claimed right now.
    return holder.task_id if holder is not None else None


def _unfinished(session: Session, caller: Identity, holder: Claim) -> bool:
    try:
        ref = get_task(session, holder.task_id, caller.tenant_id, caller.user_id)
    except NotFound:
        return holder.lately()  # its record's commit in flight, else a forgotten (never published) task
    if ref.status is not None:
        return False
    return get_task_status(ref.task_id)["status"] not in FINAL_STATUSES


def _release_quietly(client: redis.Redis, key: str, mine: Claim) -> None:
    # When this fails too, the key expires with the lock's TTL; its unseen record reads as forgotten.
    with contextlib.suppress(RedisError):
        release_sync(client, key, mine)
