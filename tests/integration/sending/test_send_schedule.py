"""Scheduled sends hold no memory: task messages carry ids only, a far-future send waits in the
database (not as a broker eta), the tick releases it shortly before it is due, and send_at has a
horizon. Real Redis and database; the tick runs in-process."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import update

from email_service.core.config import reset_settings
from email_service.core.db import session_scope
from email_service.ops.beat_guard import tick_key
from email_service.ops.tasks import periodic_sync
from email_service.sending.model import OutboxMessage
from email_service.sending.tasks import send_email
from tests.attack_report import Attack
from tests.conftest import Caller, ServerSet
from tests.integration.core.queue_support import queue_list
from tests.integration.sending.send_support import SendAccount, make_send_account, outbox_row, post_send
from tests.servers.smtp_server import SmtpTestServer

FIVE_MB = "x" * (5 * 1024 * 1024)
BODY_FIELDS = {"to", "cc", "bcc", "subject", "body_text", "body_html", "attachment_ids"}


@pytest.fixture
def account(owner: Caller, smtp: SmtpTestServer) -> SendAccount:
    return make_send_account(owner, smtp)


@pytest.fixture
def broker(clean_db: ServerSet) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(clean_db.redis_url)
    send_list = queue_list("send")
    client.delete(send_list, "unacked", "unacked_index", tick_key("periodic_sync"))
    yield client
    client.delete(send_list, tick_key("periodic_sync"))


def _messages(broker: redis.Redis) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in broker.lrange(queue_list("send"), 0, -1)]


def _kwargs(message: dict[str, Any]) -> dict[str, Any]:
    import base64

    args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == []
    return dict(kwargs)


def _tick() -> dict[str, Any]:
    result: dict[str, Any] = periodic_sync.apply().get()
    return result


def test_far_future_sends_leave_nothing_in_the_broker(
    client: Any, account: SendAccount, broker: Any, attack: Attack
) -> None:
    far = (datetime.now(UTC) + timedelta(days=300)).isoformat()
    ids = [post_send(client, account, body_text=FIVE_MB, send_at=far).get_json()["taskId"] for _ in range(3)]
    assert all(outbox_row(account.caller, i).status == "scheduled" for i in ids)
    held = len(_messages(broker)) + broker.hlen("unacked") + broker.zcard("unacked_index")
    attack("3 sends of 5 MB scheduled 300 days ahead: broker messages held", held, 0, "messages")
    assert _tick()["released_sends"] == []  # not due within the release window
    assert _messages(broker) == []


def test_a_queued_send_is_published_with_ids_only(client: Any, account: SendAccount, broker: Any) -> None:
    task_id = post_send(client, account, subject="secret plans", body_text="the body").get_json()["taskId"]
    [message] = _messages(broker)
    kwargs = _kwargs(message)
    assert message["headers"]["id"] == task_id and kwargs["email_client_id"] == account.account_id
    assert not BODY_FIELDS & set(kwargs), kwargs
    assert b"secret plans" not in json.dumps(message).encode() and "the body" not in json.dumps(message)


def test_a_send_due_soon_is_published_at_once_with_an_eta(
    client: Any, account: SendAccount, broker: Any
) -> None:
    when = datetime.now(UTC) + timedelta(minutes=2)
    task_id = post_send(client, account, send_at=when.isoformat()).get_json()["taskId"]
    [message] = _messages(broker)
    assert message["headers"]["id"] == task_id
    eta = datetime.fromisoformat(message["headers"]["eta"])
    assert abs((eta - when).total_seconds()) < 1
    assert outbox_row(account.caller, task_id).released_at is not None
    assert _tick()["released_sends"] == []  # already released: never published twice


def test_the_tick_releases_a_scheduled_send_coming_due_once(
    client: Any, account: SendAccount, broker: Any
) -> None:
    far = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    task_id = post_send(client, account, send_at=far).get_json()["taskId"]
    soon = datetime.now(UTC) + timedelta(minutes=3)
    with session_scope(account.caller.tenant_id) as session:  # a month has passed
        session.execute(update(OutboxMessage).where(OutboxMessage.id == task_id).values(send_at=soon))
    assert _tick()["released_sends"] == [task_id]
    [message] = _messages(broker)
    assert message["headers"]["id"] == task_id and not BODY_FIELDS & set(_kwargs(message))
    assert abs((datetime.fromisoformat(message["headers"]["eta"]) - soon).total_seconds()) < 1
    broker.delete(tick_key("periodic_sync"))
    assert _tick()["released_sends"] == []
    assert len(_messages(broker)) == 1


def test_cancelling_an_unreleased_send_answers_its_task(
    client: Any, account: SendAccount, broker: Any
) -> None:
    far = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    task_id = post_send(client, account, send_at=far).get_json()["taskId"]
    headers = account.caller.headers
    assert client.delete(f"/api/email/outbox/{task_id}", headers=headers).get_json()["status"] == "cancelled"
    status = client.get(f"/api/tasks/{task_id}", headers=headers).get_json()
    assert status["status"] == "success" and status["result"]["status"] == "cancelled"
    assert _messages(broker) == []


def test_an_ids_only_task_whose_row_is_gone_fails_without_sending(
    account: SendAccount, smtp: SmtpTestServer
) -> None:
    kwargs = {
        "email_client_id": account.account_id,
        "tenant_id": account.caller.tenant_id,
        "user_id": account.caller.user_id,
    }
    result = send_email.apply(kwargs=kwargs, task_id="no-such-outbox-row")
    assert result.failed() and "not found" in str(result.result)
    assert smtp.messages == [] and smtp.connections == 0
    with session_scope(account.caller.tenant_id) as session:
        assert session.get(OutboxMessage, "no-such-outbox-row") is None


@pytest.fixture
def horizon_ten_days() -> Iterator[None]:
    saved = os.environ.get("SEND_AT_HORIZON_DAYS")
    os.environ["SEND_AT_HORIZON_DAYS"] = "10"
    reset_settings()
    yield
    if saved is None:
        os.environ.pop("SEND_AT_HORIZON_DAYS", None)
    else:
        os.environ["SEND_AT_HORIZON_DAYS"] = saved
    reset_settings()


def test_send_at_beyond_the_horizon_is_a_422(client: Any, account: SendAccount) -> None:
    response = post_send(client, account, send_at="9999-01-01T00:00:00+00:00")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"][0]["field"] == "send_at"
    within = (datetime.now(UTC) + timedelta(days=364)).isoformat()
    assert post_send(client, account, send_at=within).status_code == 202


def test_the_horizon_is_configurable(horizon_ten_days: None, client: Any, account: SendAccount) -> None:
    eleven = (datetime.now(UTC) + timedelta(days=11)).isoformat()
    assert post_send(client, account, send_at=eleven).status_code == 422
    nine = (datetime.now(UTC) + timedelta(days=9)).isoformat()
    assert post_send(client, account, send_at=nine).status_code == 202


def test_a_released_send_whose_message_was_lost_is_published_again(
    client: Any, account: SendAccount, broker: Any
) -> None:
    when = datetime.now(UTC) + timedelta(minutes=2)
    task_id = post_send(client, account, send_at=when.isoformat()).get_json()["taskId"]
    broker.delete(queue_list("send"))  # Redis restarted without persistence
    long_ago = datetime.now(UTC) - timedelta(minutes=20)
    with session_scope(account.caller.tenant_id) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == task_id)
            .values(send_at=long_ago, released_at=long_ago)
        )
    result = _tick()
    assert result["released_sends"] == [] and result["requeued_sends"] == [task_id]
    [message] = _messages(broker)
    assert message["headers"]["id"] == task_id and message["headers"].get("eta") is None
