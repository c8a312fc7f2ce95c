"""The Celery application: queues, routes, reliability settings, and worker process hooks."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.backends.base import Backend
from celery.backends.redis import RedisBackend
from celery.signals import setup_logging, worker_process_init
from kombu import Queue
from kombu import pools as kombu_pools

from email_service.config import get_settings

QUEUES = ("sync", "send", "delete", "spam", "periodic")
TASK_PREFIX = "email_service.tasks."
ROUTES = {
    f"{TASK_PREFIX}sync_emails": {"queue": "sync"},
    f"{TASK_PREFIX}send_email": {"queue": "send"},
    f"{TASK_PREFIX}send_notification": {"queue": "send"},
    f"{TASK_PREFIX}delete_emails": {"queue": "delete"},
    f"{TASK_PREFIX}restore_emails": {"queue": "delete"},
    f"{TASK_PREFIX}check_spam": {"queue": "spam"},
    f"{TASK_PREFIX}check_spam_batch": {"queue": "spam"},
    f"{TASK_PREFIX}periodic_sync": {"queue": "periodic"},
    f"{TASK_PREFIX}cleanup_stale_results": {"queue": "periodic"},
}
SOFT_TIME_LIMIT = 25 * 60
HARD_TIME_LIMIT = 30 * 60
MAX_RETRY_COUNTDOWN = 600
# A message unacked for longer than this is redelivered; it must outlast the longest run plus the
# longest retry countdown, or a long task would be started twice.
VISIBILITY_TIMEOUT = HARD_TIME_LIMIT + MAX_RETRY_COUNTDOWN + 1200


def celery_config() -> dict[str, Any]:
    settings = get_settings()
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend_url,
        "broker_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT},
        "result_backend_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT},
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
        "worker_prefetch_multiplier": 1,
        "worker_max_tasks_per_child": 1000,
        "task_soft_time_limit": SOFT_TIME_LIMIT,
        "task_time_limit": HARD_TIME_LIMIT,
        "result_expires": 3600,
        "result_extended": True,
        "task_track_started": True,
        "task_send_sent_event": True,
        "worker_send_task_events": True,
        "task_default_queue": "sync",
        "task_queues": [Queue(name, routing_key=name) for name in QUEUES],
        "task_routes": ROUTES,
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": _beat_schedule(),
    }


def _beat_schedule() -> dict[str, Any]:
    from email_service.tasks.schedules import BEAT_SCHEDULE

    return BEAT_SCHEDULE


class PublishOnlyRedisBackend(RedisBackend):
    """Redis results without a pub/sub subscription for every task a process sends.

    Stock Celery subscribes the sender to each new task's result channel; the API never waits on
    results, so that only grew a subscription set per request and turned a Redis outage into a
    RuntimeError instead of a clean publish error. AsyncResult.get() still subscribes when called.
    """

    def on_task_call(self, producer: Any, task_id: str) -> None:
        return None


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
            "email_service.tasks.sync",
            "email_service.tasks.send",
            "email_service.tasks.delete",
            "email_service.tasks.spam",
            "email_service.tasks.periodic",
            "email_service.tasks.notify",
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
    from email_service.db import dispose_engine

    dispose_engine()


@setup_logging.connect
def _configure_worker_logging(**_: Any) -> None:
    from email_service.logging_setup import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)


# Signal handlers (log context for the whole task run, worker metrics, outcomes on the task records);
# imported for their effect.
from email_service.tasks import observability, outcome_signals  # noqa: E402,F401
