"""Webhook deliveries to a real local receiver (both backends): written with the change, signed with the
endpoint's secret, retried after 500s with the same webhook-id, and task.completed in the log."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from email_service.core.db import session_scope
from email_service.core.tasking.outcomes import record_outcome
from email_service.core.tasking.records import record_task
from email_service.events.log import append_changes
from email_service.events.model import Change
from email_service.events.webhooks import dispatch, signing
from email_service.events.webhooks.model import WebhookDelivery
from email_service.events.webhooks.registry import create_webhook
from tests.conftest import Caller, apply_environment
from tests.servers.webhook_receiver import WebhookReceiver


@pytest.fixture
def fast_retries() -> Iterator[None]:
    saved = os.environ.get("WEBHOOK_RETRY_SECONDS")
    os.environ["WEBHOOK_RETRY_SECONDS"] = "0,0"
    apply_environment()
    yield
    if saved is None:
        os.environ.pop("WEBHOOK_RETRY_SECONDS", None)
    else:
        os.environ["WEBHOOK_RETRY_SECONDS"] = saved
    apply_environment()


def _change(owner: Caller, n: int = 1) -> None:
    with session_scope(owner.tenant_id) as session:
        append_changes(
            session, (owner.tenant_id, owner.user_id), "message.created", None, [f"m{i}" for i in range(n)]
        )


def _deliveries(owner: Caller) -> list[WebhookDelivery]:
    with session_scope(owner.tenant_id) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.change_seq)).all()
        session.expunge_all()
        return list(rows)


def test_a_change_is_delivered_signed(owner: Caller, webhook_receiver: WebhookReceiver) -> None:
    with session_scope(owner.tenant_id) as session:
        hook = create_webhook(
            session, (owner.tenant_id, owner.user_id), webhook_receiver.url, ["message.created"]
        )
    _change(owner, 2)
    rows = _deliveries(owner)
    assert len(rows) == 2 and all(r.status == "pending" for r in rows)
    assert dispatch.deliver([r.id for r in rows])["delivered"] == 2
    assert len(webhook_receiver.received) == 2
    for got, row in zip(webhook_receiver.received, rows, strict=True):
        h = got.headers
        assert h["webhook-id"] == row.id
        assert signing.verify(
            hook.secret, h["webhook-id"], h["webhook-timestamp"], got.body, h["webhook-signature"]
        )
        event = json.loads(got.body)
        assert event["type"] == "message.created" and event["data"]["id"] == str(row.change_seq)
    assert {r.status for r in _deliveries(owner)} == {"delivered"}


def test_unsubscribed_types_and_other_users_get_no_delivery(
    owner: Caller, same_tenant_other_user: Caller, webhook_receiver: WebhookReceiver
) -> None:
    with session_scope(owner.tenant_id) as session:
        create_webhook(session, (owner.tenant_id, owner.user_id), webhook_receiver.url, ["send.sent"])
    _change(owner)
    _change(same_tenant_other_user)
    assert _deliveries(owner) == []


def test_500s_are_retried_with_the_same_id_then_fail_for_good(
    owner: Caller, webhook_receiver: WebhookReceiver, fast_retries: None
) -> None:
    with session_scope(owner.tenant_id) as session:
        create_webhook(session, (owner.tenant_id, owner.user_id), webhook_receiver.url, ["*"])
    webhook_receiver.script = [500, 500]
    _change(owner)
    (row,) = _deliveries(owner)
    outcomes = [dispatch.deliver([row.id]) for _ in range(3)]
    assert [o["failed"] for o in outcomes] == [1, 1, 0], outcomes
    ids = [r.headers["webhook-id"] for r in webhook_receiver.received]
    assert ids == [row.id] * 3
    (done,) = _deliveries(owner)
    assert done.status == "delivered" and done.attempts == 3 and done.last_status_code == 204

    webhook_receiver.script = [500, 500, 500]
    _change(owner)
    last = _deliveries(owner)[-1]
    for _ in range(4):
        dispatch.deliver([last.id])
    (failed,) = [r for r in _deliveries(owner) if r.id == last.id]
    assert failed.status == "failed" and failed.attempts == 3 and failed.last_status_code == 500


def test_task_completed_is_appended_with_the_final_state(owner: Caller) -> None:
    with session_scope(owner.tenant_id) as session:
        task_id = record_task(session, owner.tenant_id, owner.user_id, "sync_emails").task_id
    assert record_outcome(owner.tenant_id, task_id, "success", {"status": "success"})
    assert record_outcome(owner.tenant_id, task_id, "success", {"status": "success"})  # again: no second
    with session_scope(owner.tenant_id) as session:
        changes = session.scalars(select(Change).where(Change.type == "task.completed")).all()
        assert [(c.object_id, c.data) for c in changes] == [
            (task_id, {"task_name": "sync_emails", "status": "success"})
        ]


def test_a_retry_that_fires_a_moment_early_still_attempts(
    owner: Caller, webhook_receiver: WebhookReceiver
) -> None:
    """A countdown message can run a few ms before next_attempt_at; it must not be skipped until the
    sweep (seen in the receiver-away scenario), while an attempt not due for long still is."""
    from datetime import timedelta

    from sqlalchemy import update

    from email_service.core.model_base import utcnow

    with session_scope(owner.tenant_id) as session:
        create_webhook(session, (owner.tenant_id, owner.user_id), webhook_receiver.url, ["*"])
    _change(owner, 2)
    soon, later = (r.id for r in _deliveries(owner))
    with session_scope(owner.tenant_id) as session:
        for delivery_id, seconds in ((soon, 0.3), (later, 60)):
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(next_attempt_at=utcnow() + timedelta(seconds=seconds))
            )
    assert dispatch.attempt(soon)[0] == "delivered"
    assert dispatch.attempt(later)[0] == "skipped"
