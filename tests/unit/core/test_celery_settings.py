"""Task limits and worker settings come from the environment (config.py) and reach the Celery app."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from email_service.core.config import ConfigError, get_settings, load_settings, reset_settings
from email_service.tasks.celery_app import MAX_RETRY_COUNTDOWN, celery_config

DEV = {"APP_ENV": "development"}
TUNED = {
    "TASK_SOFT_TIME_LIMIT": "3000",
    "TASK_TIME_LIMIT": "3600",
    "CELERY_WORKER_CONCURRENCY": "8",
    "CELERY_WORKER_PREFETCH_MULTIPLIER": "4",
    "CELERY_WORKER_MAX_TASKS_PER_CHILD": "50",
    "CELERY_WORKER_LOGLEVEL": "warning",
    "NOTIFICATION_RATE_LIMIT": "10/s",
}


@pytest.fixture
def tuned() -> Iterator[None]:
    previous = get_settings()
    reset_settings(load_settings({**DEV, **TUNED}))
    yield
    reset_settings(previous)


def test_defaults_are_the_documented_contract() -> None:
    s = load_settings({**DEV, "LOG_LEVEL": "debug"})
    assert (s.task_soft_time_limit, s.task_time_limit) == (1500, 1800)
    assert (s.worker_concurrency, s.worker_prefetch_multiplier, s.worker_max_tasks_per_child) == (2, 1, 1000)
    assert s.worker_loglevel == "DEBUG", "the workers follow LOG_LEVEL unless told otherwise"
    assert s.sync_lock_ttl_seconds == 1900
    assert s.notification_rate_limit == "60/m"


def test_the_environment_reaches_the_celery_configuration(tuned: None) -> None:
    conf = celery_config()
    assert (conf["task_soft_time_limit"], conf["task_time_limit"]) == (3000, 3600)
    assert conf["worker_concurrency"] == 8
    assert conf["worker_prefetch_multiplier"] == 4
    assert conf["worker_max_tasks_per_child"] == 50
    annotations = conf["task_annotations"]
    assert annotations["email_service.tasks.send_notification"] == {"rate_limit": "10/s"}
    # chord_unlock (groups, on a backend without native joins) gives up after the longest member run.
    assert annotations["celery.chord_unlock"]["max_retries"] == int(6 * (3600 + MAX_RETRY_COUNTDOWN) / 2) + 1
    # Redelivery must wait out the longest run plus the longest countdown, or a long task runs twice.
    visibility = conf["broker_transport_options"]["visibility_timeout"]
    assert visibility == 3600 + MAX_RETRY_COUNTDOWN + 1200
    assert get_settings().worker_loglevel == "WARNING"
    assert get_settings().sync_lock_ttl_seconds == 3700, "the lock outlives the raised hard limit"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TASK_SOFT_TIME_LIMIT", "ten"),
        ("TASK_SOFT_TIME_LIMIT", "0"),
        ("TASK_TIME_LIMIT", "-5"),
        ("TASK_TIME_LIMIT", "1.5"),
        ("CELERY_WORKER_CONCURRENCY", "0"),
        ("CELERY_WORKER_CONCURRENCY", "four"),
        ("CELERY_WORKER_PREFETCH_MULTIPLIER", "0"),
        ("CELERY_WORKER_MAX_TASKS_PER_CHILD", "-1"),
        ("CELERY_WORKER_LOGLEVEL", "LOUD"),
        ("LOG_LEVEL", "verbose"),
        ("NOTIFICATION_RATE_LIMIT", "fast"),
        ("NOTIFICATION_RATE_LIMIT", "0/m"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**DEV, name: value})
    assert str(info.value).startswith(name)


def test_soft_limit_must_stay_below_the_hard_limit() -> None:
    for soft in ("1800", "2000"):
        with pytest.raises(ConfigError, match=r"^TASK_SOFT_TIME_LIMIT: .* less than TASK_TIME_LIMIT"):
            load_settings({**DEV, "TASK_SOFT_TIME_LIMIT": soft})


def test_a_sync_lock_shorter_than_the_hard_limit_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^SYNC_LOCK_TTL_SECONDS: .* exceed TASK_TIME_LIMIT"):
        load_settings({**DEV, "TASK_TIME_LIMIT": "3600", "SYNC_LOCK_TTL_SECONDS": "1900"})


def test_a_worker_with_a_bad_limit_stops_naming_the_variable() -> None:
    """The real `celery worker` command: it exits before consuming anything, saying what is wrong."""
    env = {**DEV, "TASK_SOFT_TIME_LIMIT": "1800", "TASK_TIME_LIMIT": "1800", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "email_service.worker", "worker", "-Q", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "TASK_SOFT_TIME_LIMIT" in proc.stdout + proc.stderr


def test_make_run_starts_its_worker_with_the_configured_concurrency() -> None:
    from email_service import devserver

    previous = get_settings()
    reset_settings(load_settings({**DEV, "CELERY_WORKER_CONCURRENCY": "5"}))
    try:
        worker = devserver._commands()["worker"]
    finally:
        reset_settings(previous)
    assert worker[worker.index("-c") + 1] == "5"
    assert "--loglevel" not in worker, "the worker's level is CELERY_WORKER_LOGLEVEL, read by the app"
