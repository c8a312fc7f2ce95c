from __future__ import annotations

import random

import pytest

from email_service.core.tasking.base import backoff_countdown
from email_service.tasks.celery_app import MAX_RETRY_COUNTDOWN, celery_app


def test_backoff_doubles_from_five_and_caps_at_600() -> None:
    rng = random.Random(1)
    for retries, base in enumerate([5, 10, 20, 40, 80, 160, 320, 600, 600]):
        value = backoff_countdown(retries, rng)
        assert base * 0.8 <= value <= min(600, base * 1.2)


def test_celery_contract_settings() -> None:
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_max_tasks_per_child == 1000
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (1500, 1800)
    assert conf.result_expires == 3600
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] == 1800 + MAX_RETRY_COUNTDOWN + 1200


def test_all_six_tasks_registered_and_routed() -> None:
    celery_app.loader.import_default_modules()
    expected = {
        "sync_emails": "sync",
        "send_email": "send",
        "delete_emails": "delete",
        "check_spam": "spam",
        "periodic_sync": "periodic",
        "cleanup_stale_results": "periodic",
    }
    for name, queue in expected.items():
        full = f"email_service.tasks.{name}"
        assert full in celery_app.tasks
        assert celery_app.amqp.router.route({}, full)["queue"].name == queue


@pytest.mark.parametrize("missing", ["tenant_id", "user_id"])
def test_tenant_task_requires_tenant_and_user(missing: str) -> None:
    celery_app.loader.import_default_modules()
    task = celery_app.tasks["email_service.tasks.sync_emails"]
    kwargs = {"email_client_id": "a", "tenant_id": "t", "user_id": "u"}
    kwargs[missing] = ""
    with pytest.raises(ValueError, match="requires tenant_id and user_id"):
        task(**kwargs)
