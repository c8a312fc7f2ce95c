"""Worker metrics kept in Redis hashes, exported by the API's /metrics.

Prefork children, several worker containers and the API all see one broker Redis, so one HINCRBY per
finished task gives fleet-wide counters that a single scrape of the API returns, with no per-process
registry, multiprocess directory or extra port per worker. Counting never fails a task.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from email_service.core.config import get_settings
from email_service.sync.lock import shared_client

log = logging.getLogger(__name__)
PREFIX = "email_service:metrics:"
TASKS_KEY = PREFIX + "tasks"  # field "<task name> <state>"
SYNC_KEY = PREFIX + "sync_messages"  # field synced | updated | deleted
SEND_KEY = PREFIX + "send_results"  # field: send_email's result status, or "failed"
SYNC_FIELDS = {"synced": "messages_synced", "updated": "messages_updated", "deleted": "messages_deleted"}


def _redis() -> redis.Redis:
    """One client per process (prefork children must not share the parent's sockets)."""
    return shared_client(get_settings().broker_url)


def increments(name: str, state: str, result: Any) -> list[tuple[str, str, int]]:
    """(hash, field, amount) for one finished task; pure so it is unit-tested."""
    out = [(TASKS_KEY, f"{name} {state}", 1)]
    short = name.rsplit(".", 1)[-1]
    if short == "sync_emails" and state == "success" and isinstance(result, dict):
        out += [(SYNC_KEY, kind, int(result.get(key) or 0)) for kind, key in SYNC_FIELDS.items()]
    elif short == "send_email" and state == "success" and isinstance(result, dict):
        out.append((SEND_KEY, str(result.get("status", "unknown")), 1))
    elif short == "send_email" and state == "failure":
        out.append((SEND_KEY, "failed", 1))
    return out


def task_finished(name: str, state: str, result: Any) -> None:
    try:
        with _redis().pipeline(transaction=False) as pipe:
            for key, field, amount in increments(name, state, result):
                pipe.hincrby(key, field, amount)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("worker metrics not recorded: %s", type(exc).__name__)


class WorkerMetricsCollector(Collector):
    """Read on each scrape: task outcomes, sync messages, send results and queue lengths."""

    def collect(self) -> Iterator[Any]:
        from email_service.core.tasking.status import get_queue_stats

        up = GaugeMetricFamily("email_service_worker_metrics_up", "1 when the broker Redis answered")
        try:
            client = _redis()
            tasks, sync, send = (client.hgetall(key) for key in (TASKS_KEY, SYNC_KEY, SEND_KEY))
            queues = get_queue_stats()
        except (redis.RedisError, OSError) as exc:
            log.warning("worker metrics unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _counter("email_service_tasks", "Finished tasks by name and state", ["task", "state"], tasks)
        yield _counter("email_service_sync_messages", "Messages written by sync_emails", ["kind"], sync)
        yield _counter("email_service_send_results", "send_email outcomes", ["result"], send)
        lengths = GaugeMetricFamily("email_service_queue_length", "Messages waiting", labels=["queue"])
        for queue, length in queues.items():
            lengths.add_metric([queue], length)
        yield lengths


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _counter(
    name: str, doc: str, labels: list[str], raw: dict[bytes | str, bytes | str]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=labels)
    for field, value in sorted((_text(k), _text(v)) for k, v in raw.items()):
        family.add_metric(field.split(" ", len(labels) - 1), float(value))
    return family
