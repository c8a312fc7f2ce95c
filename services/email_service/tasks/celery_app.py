"""The Celery application: queues, routes, reliability settings, and worker process hooks."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from celery import Celery
from celery.app import trace as celery_trace
from celery.backends.base import Backend
from celery.backends.redis import RedisBackend
from celery.signals import celeryd_init, setup_logging, worker_process_init
from kombu import Queue
from kombu import pools as kombu_pools

from email_service.core.config import get_settings

QUEUES = ("sync", "send", "delete", "spam", "periodic", "webhooks")
TASK_PREFIX = "email_service.tasks."
# The card's priorities, higher = more important. A worker consuming several queues takes the most
# important waiting message first (see broker_priority and PHASE_7_CELERY.md §2).
QUEUE_PRIORITY = {"sync": 10, "send": 8, "delete": 5, "spam": 3, "periodic": 10, "webhooks": 6}
TASK_QUEUES = {
    "sync_emails": "sync",
    "sync_group_summary": "sync",
    "send_email": "send",
    "send_notification": "send",
    "delete_emails": "delete",
    "restore_emails": "delete",
    "apply_flags": "delete",
    "move_emails": "delete",
    "folder_action": "delete",
    "draft_action": "delete",
    "check_spam": "spam",
    "check_spam_batch": "spam",
    "periodic_sync": "periodic",
    "cleanup_stale_results": "periodic",
    # Its own queue: a slow receiver (up to the 10 s timeout per attempt) never delays syncs or sends.
    "deliver_webhooks": "webhooks",
    "sweep_webhooks": "periodic",
}
MAX_RETRY_COUNTDOWN = 600
# Redis keeps one list per queue and priority step; BRPOP reads the steps in this order, lowest first.
PRIORITY_STEPS = list(range(10))


def broker_priority(card_priority: int) -> int:
    """The card's 10 (most important) .. 1 as the Redis transport's 0 (read first) .. 9."""
    return max(0, min(9, 10 - card_priority))


ROUTES = {
    f"{TASK_PREFIX}{task}": {"queue": queue, "priority": broker_priority(QUEUE_PRIORITY[queue])}
    for task, queue in TASK_QUEUES.items()
}


def visibility_timeout(hard_time_limit: int) -> int:
    """How long a reserved, unacked message waits before Redis redelivers it.

    With late acks a message stays unacked for the whole run, and a retry or staggered start is held
    by a worker until due: the timeout must outlast the hard limit plus the longest countdown, or a
    long task would be started twice (1200 s margin on top).
    """
    return hard_time_limit + MAX_RETRY_COUNTDOWN + 1200


CHORD_UNLOCK_INTERVAL_SECONDS = 2.0
SYNC_MAX_RUNS = 6  # sync_emails' first run and its max_retries=5


def chord_unlock_retries(hard_time_limit: int) -> int:
    """Polls of celery.chord_unlock covering every member run and retry countdown, then no more."""
    longest = SYNC_MAX_RUNS * (hard_time_limit + MAX_RETRY_COUNTDOWN)
    return int(longest / CHORD_UNLOCK_INTERVAL_SECONDS) + 1


# Celery's INFO "Task ... succeeded in ...s: <return value>" line printed the whole result (a send's
# accepted and refused recipients, bcc included) into the shared worker log: the value stays in the
# tenant's own result, the log line names the task and its runtime only.
celery_trace.LOG_SUCCESS = "Task %(name)s[%(id)s] succeeded in %(runtime)ss"


def celery_config() -> dict[str, Any]:
    settings = get_settings()
    visibility = visibility_timeout(settings.task_time_limit)
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend_url,
        "broker_transport_options": {
            "visibility_timeout": visibility,
            "priority_steps": PRIORITY_STEPS,
            # Queues in the worker's -Q order on every read instead of round robin; with the steps
            # above, step 0 of every queue is read before step 1 of any.
            "queue_order_strategy": "priority",
        },
        "result_backend_transport_options": {"visibility_timeout": visibility},
        "broker_connection_retry_on_startup": True,
        # The API publishes inside a request: when Redis is down, answer 503 within ~2 s, not minutes.
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_concurrency": settings.worker_concurrency,
        "worker_prefetch_multiplier": settings.worker_prefetch_multiplier,
        "worker_max_tasks_per_child": settings.worker_max_tasks_per_child,
        "task_soft_time_limit": settings.task_soft_time_limit,
        "task_time_limit": settings.task_time_limit,
        "result_expires": 3600,
        # Off: extended results copy the task's name, args and kwargs into Redis for result_expires;
        # /api/tasks/<id> reads only status and result, and the task records keep the kind.
        "result_extended": False,
        "task_track_started": True,
        "task_send_sent_event": True,
        "worker_send_task_events": True,
        "task_default_queue": "sync",
        "task_queues": [Queue(name, routing_key=name) for name in QUEUES],
        "task_routes": ROUTES,
        # A group's chord (sync of all accounts): the Redis backend joins it natively (each member's
        # end counts down in Redis, no polling task). On a backend without that, celery.chord_unlock
        # polls every interval; bounded so it gives up after the members' longest possible run.
        "result_chord_retry_interval": CHORD_UNLOCK_INTERVAL_SECONDS,
        "task_annotations": {
            "celery.chord_unlock": {"max_retries": chord_unlock_retries(settings.task_time_limit)},
            # The system relay is shared by every tenant: a burst of notices is spread out, not refused.
            f"{TASK_PREFIX}send_notification": {"rate_limit": settings.notification_rate_limit},
        },
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": _beat_schedule(),
    }


def _beat_schedule() -> dict[str, Any]:
    from email_service.ops.schedules import BEAT_SCHEDULE

    return BEAT_SCHEDULE


_NOT_WAITING: ContextVar[bool] = ContextVar("publishing_without_waiting", default=False)


@contextmanager
def publishing_only() -> Iterator[None]:
    """Publish a canvas (a group's chord) without waiting on its parts: Celery ties each member's
    result to the group's barrier, which would subscribe this process to every member's result
    channel until the garbage collector finds the cycle (and at exit, with Redis gone, fail)."""
    token = _NOT_WAITING.set(True)
    try:
        yield
    finally:
        _NOT_WAITING.reset(token)


class PublishOnlyRedisBackend(RedisBackend):
    """Redis results without a pub/sub subscription for every task a process sends.

    Stock Celery subscribes the sender to each new task's result channel; the API never waits on
    results, so that only grew a subscription set per request and turned a Redis outage into a
    RuntimeError instead of a clean publish error. AsyncResult.get() still subscribes when called.
    """

    def on_task_call(self, producer: Any, task_id: str) -> None:
        return None

    def add_pending_result(self, result: Any, weak: bool = False, start_drainer: bool = True) -> Any:
        """Nothing to wait for inside publishing_only()."""
        if _NOT_WAITING.get():
            return result
        return super().add_pending_result(result, weak=weak, start_drainer=start_drainer)


class EmailServiceCelery(Celery):
    def _get_backend(self) -> Backend:
        url = str(self.conf.result_backend or "")
        if url.startswith(("redis://", "rediss://")):
            return PublishOnlyRedisBackend(app=self, url=url)
        backend: Backend = super()._get_backend()
        return backend


def create_celery() -> Celery:
    app = EmailServiceCelery(
        "email_service",
        include=[
            "email_service.sync.tasks",
            "email_service.sending.tasks",
            "email_service.sending.drafts.tasks",
            "email_service.deletion.tasks",
            "email_service.messages.actions.tasks",
            "email_service.spam.tasks",
            "email_service.ops.tasks",
            "email_service.notifications.tasks",
            "email_service.events.webhooks.tasks",
        ],
    )
    # Lazy: settings are read when the configuration is first needed, not at import time.
    app.add_defaults(celery_config)
    return app


def reconfigure() -> None:
    """Re-read settings into the app and drop cached connections (tests and tools that change the env)."""
    celery_app.conf.update(celery_config())
    app: Any = celery_app
    kombu_pools.reset()  # producer pools are global in kombu, keyed by connection
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


celery_app = create_celery()


@worker_process_init.connect
def _reset_db_after_fork(**_: Any) -> None:
    """Each forked child opens its own connections; the parent's pool must not be reused."""
    from email_service.core.db import dispose_engine

    dispose_engine()


_in_worker = False


@celeryd_init.connect
def _mark_worker(**_: Any) -> None:
    """Sent by `celery worker` before it sets up logging (beat and flower never send it)."""
    global _in_worker
    _in_worker = True


@setup_logging.connect
def _configure_worker_logging(**_: Any) -> None:
    """Our JSON handler instead of Celery's; a worker logs at CELERY_WORKER_LOGLEVEL, beat at LOG_LEVEL."""
    from email_service.core.logging_setup import configure_logging

    settings = get_settings()
    configure_logging(settings.worker_loglevel if _in_worker else settings.log_level, settings.log_json)


# Signal handlers (log context for the whole task run, worker metrics, outcomes on the task records);
# imported for their effect.
from email_service.core.tasking import observability, outcome_signals  # noqa: E402,F401

# The card's shell workflow: `from email_service.tasks.celery_app import sync_emails, revoke_task`.
# The task modules import this one for the app, so they are loaded on first access, not here.
_EXPORTS = {
    "sync_emails": "email_service.sync.tasks",
    "sync_group_summary": "email_service.sync.tasks",
    "send_email": "email_service.sending.tasks",
    "delete_emails": "email_service.deletion.tasks",
    "restore_emails": "email_service.deletion.tasks",
    "apply_flags": "email_service.messages.actions.tasks",
    "move_emails": "email_service.messages.actions.tasks",
    "folder_action": "email_service.messages.actions.tasks",
    "check_spam": "email_service.spam.tasks",
    "check_spam_batch": "email_service.spam.tasks",
    "periodic_sync": "email_service.ops.tasks",
    "cleanup_stale_results": "email_service.ops.tasks",
    "send_notification": "email_service.notifications.tasks",
    "get_task_status": "email_service.core.tasking.status",
    "get_active_tasks": "email_service.core.tasking.status",
    "get_queue_stats": "email_service.core.tasking.status",
    "revoke_task": "email_service.core.tasking.status",
}


def __getattr__(name: str) -> Any:
    """The tasks and operator helpers by name, imported when first asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
