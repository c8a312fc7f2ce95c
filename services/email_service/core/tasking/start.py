"""The one way a task is started: record it, commit, publish, and undo both when the broker is down.

Every entry point goes through here: the blueprints' use cases (start_task, or publish_recorded when
the record was written with other rows, as the outbox does), the worker's own fan-out (publish_task)
and the beat tick's bulk publish, which builds the same message (task_message_parts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from celery import chord, group
from celery.canvas import Signature
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from email_service.core.db import session_scope
from email_service.core.errors import ServiceUnavailable
from email_service.core.tasking.records import forget_task, record_task
from email_service.core.tenancy.tokens import Identity
from email_service.tasks.celery_app import TASK_PREFIX, celery_app, publishing_only

# What publishing raises when Redis is away; anything else is a bug and is not turned into a 503.
BROKER_DOWN = (BrokerError, RedisError, OSError)
Prepared = TypeVar("Prepared")


def task_message_parts(
    tenant_id: str, user_id: str, kwargs: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Kwargs and headers of a task message: tenant and user in both (tasks check the kwargs, logs
    and Flower read the headers)."""
    return {**kwargs, "tenant_id": tenant_id, "user_id": user_id}, {
        "tenant_id": tenant_id,
        "user_id": user_id,
    }


def ids_only_repr(kwargs: dict[str, Any]) -> str:
    """What the worker's "received" line, task events and Flower show of a task's kwargs.

    Celery logs and emits argsrepr/kwargsrepr, by default the full repr: a notification's text or any
    argument a caller adds would reach logs and Flower. Only `*_id` scalars are shown; `*_ids` lists
    as their count; every other value as its key alone.
    """
    shown: dict[str, Any] = {}
    for key, value in sorted(kwargs.items()):
        if key.endswith("_id") and isinstance(value, (str, int)) and len(str(value)) <= 64:
            shown[key] = value
        elif key.endswith("_ids") and isinstance(value, (list, tuple)):
            shown[key] = f"<{len(value)} ids>"
        else:
            shown[key] = "<hidden>"
    return repr(shown)


def publish_task(
    kind: str, task_id: str, tenant_id: str, user_id: str, kwargs: dict[str, Any], **options: Any
) -> str:
    """Publish `email_service.tasks.<kind>` with id task_id; raises BROKER_DOWN errors unchanged."""
    full_kwargs, headers = task_message_parts(tenant_id, user_id, kwargs)
    celery_app.send_task(
        TASK_PREFIX + kind,
        kwargs=full_kwargs,
        task_id=task_id,
        headers=headers,
        argsrepr="()",
        kwargsrepr=ids_only_repr(full_kwargs),
        **options,
    )
    return task_id


def publish_system_task(kind: str, kwargs: dict[str, Any], **options: Any) -> str:
    """Publish a task that acts on rows by id for the system (webhook deliveries), with no task
    record and no tenant arguments; raises BROKER_DOWN errors unchanged."""
    result = celery_app.send_task(
        TASK_PREFIX + kind, kwargs=kwargs, argsrepr="()", kwargsrepr=ids_only_repr(kwargs), **options
    )
    return str(result.id)


def publish_recorded(
    caller: Identity,
    kind: str,
    task_id: str,
    kwargs: dict[str, Any],
    undo: Callable[[Session], None] | None = None,
    **options: Any,
) -> str:
    """Publish a task whose record is committed; when the broker is down, drop the record, run undo
    in the same transaction and answer 503 (nothing is left half-written)."""
    try:
        return publish_task(kind, task_id, caller.tenant_id, caller.user_id, kwargs, **options)
    except BROKER_DOWN as exc:
        with session_scope(caller.tenant_id) as session:
            forget_task(session, task_id)
            if undo is not None:
                undo(session)
        raise ServiceUnavailable("task queue is unavailable, try again shortly") from exc


def start_task(
    caller: Identity,
    kind: str,
    kwargs: dict[str, Any],
    account_id: str | None = None,
    prepare: Callable[[Session], Prepared] | None = None,
    undo: Callable[[Session, Prepared], None] | None = None,
    **options: Any,
) -> str:
    """Run prepare (checks ownership, changes rows) and write the task record in one transaction,
    commit, then publish. undo gets prepare's result back when publishing fails."""
    with session_scope(caller.tenant_id) as session:
        prepared = prepare(session) if prepare is not None else None
        task_id = record_task(session, caller.tenant_id, caller.user_id, kind, account_id=account_id).task_id
    revert = None if undo is None else (lambda session: undo(session, cast(Prepared, prepared)))
    return publish_recorded(caller, kind, task_id, kwargs, undo=revert, **options)


@dataclass(frozen=True)
class GroupMember:
    """One task of a group: its kind, the account it acts on and its kwargs (tenant and user added)."""

    kind: str
    account_id: str | None
    kwargs: dict[str, Any]


def _signature(kind: str, task_id: str, tenant_id: str, user_id: str, kwargs: dict[str, Any]) -> Signature:
    full_kwargs, headers = task_message_parts(tenant_id, user_id, kwargs)
    options = {"task_id": task_id, "headers": headers}
    return celery_app.signature(TASK_PREFIX + kind, kwargs=full_kwargs, options=options)


def start_group(
    caller: Identity,
    kind: str,
    members: Sequence[GroupMember],
    summary_kind: str,
    summary_kwargs: dict[str, Any],
) -> str:
    """Record a group (its id is the summary task's) and its members in one transaction, commit, then
    publish them as a chord whose callback is the summary task.

    The summary is also the callback's error handler: when a member fails, Celery does not run the
    callback but calls its errbacks, so the summary runs once either way and no member can hang it.
    """
    tenant_id, user_id = caller.tenant_id, caller.user_id
    with session_scope(tenant_id) as session:
        group_id = record_task(session, tenant_id, user_id, kind).task_id
        ids = [
            record_task(
                session, tenant_id, user_id, m.kind, account_id=m.account_id, group_id=group_id
            ).task_id
            for m in members
        ]
    header = [_signature(m.kind, i, tenant_id, user_id, m.kwargs) for m, i in zip(members, ids, strict=True)]
    callback_kwargs = {"group_id": group_id, **summary_kwargs}
    # root_id: every member's root is the group, so Flower and the events link them to it.
    summary = _signature(summary_kind, group_id, tenant_id, user_id, callback_kwargs)
    summary.set(immutable=True, root_id=group_id)
    full_kwargs, headers = task_message_parts(tenant_id, user_id, callback_kwargs)
    errback = celery_app.signature(
        TASK_PREFIX + summary_kind, kwargs=full_kwargs, options={"headers": headers}
    )
    summary.link_error(errback.set(immutable=True))
    try:
        with publishing_only():
            chord(group(header), summary).apply_async()
    except BROKER_DOWN as exc:
        with session_scope(tenant_id) as session:
            for task_id in [group_id, *ids]:
                forget_task(session, task_id)
        raise ServiceUnavailable("task queue is unavailable, try again shortly") from exc
    return group_id
