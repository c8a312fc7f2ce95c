"""POST /api/email/send, the outbox and uploads over the real PostgreSQL and Redis: validation,
idempotency, scheduling, cancellation and the tenant matrix."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import pytest

from email_service.core.config import reset_settings
from email_service.core.db import session_scope
from email_service.sending.model import OutboxMessage
from tests.conftest import Caller
from tests.integration.sending.send_support import (
    SendAccount,
    counts,
    make_send_account,
    outbox_row,
    post_send,
)
from tests.servers.smtp_server import SmtpTestServer


@pytest.fixture
def account(owner: Caller, smtp: SmtpTestServer) -> SendAccount:
    return make_send_account(owner, smtp)


@pytest.fixture
def small_limits() -> Iterator[None]:
    """A 2 KB message limit and 3 recipients, read by the app built after this fixture."""
    saved = {k: os.environ.get(k) for k in ("MAX_MESSAGE_BYTES", "MAX_RECIPIENTS")}
    os.environ.update({"MAX_MESSAGE_BYTES": "2048", "MAX_RECIPIENTS": "3"})
    reset_settings()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()


def upload(client: Any, caller: Caller, data: bytes, name: str = "report.pdf") -> Any:
    files = {"file": (BytesIO(data), name, "application/pdf")}
    return client.post(
        "/api/attachments", data=files, headers=caller.headers, content_type="multipart/form-data"
    )


def field_of(response: Any) -> str:
    return str(response.get_json()["error"]["details"]["fields"][0]["field"])


def test_send_queues_one_row_and_task_record(client: Any, account: SendAccount) -> None:
    response = post_send(client, account, subject="Hi", body_text="Hello")
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued"
    row = outbox_row(account.caller, body["taskId"])
    assert (row.status, row.account_id, row.request["subject"]) == ("queued", account.account_id, "Hi")
    assert counts(account.caller) == (1, 1)
    status = client.get(f"/api/tasks/{body['taskId']}", headers=account.caller.headers)
    assert status.status_code == 200


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": ["not an address"]}, "to"),
        ({"cc": ["ok@example.test", "bad@@example.test"]}, "cc"),
        ({"bcc": ["x@example.test\r\nBcc: evil@example.test"]}, "bcc"),
        ({"to": []}, "to"),
        ({"to": [f"r{i}@example.test" for i in range(101)]}, "to"),
        ({"in_reply_to": "no-such-message"}, "in_reply_to"),
        ({"attachment_ids": ["no-such-upload"]}, "attachment_ids"),
        ({"send_at": "2030-01-01T10:00:00"}, "send_at"),
        ({"to": "bob@example.test"}, "to"),
    ],
)
def test_invalid_requests_name_the_field_and_queue_nothing(
    client: Any, account: SendAccount, fields: dict[str, Any], field: str
) -> None:
    response = post_send(client, account, **fields)
    assert response.status_code == 422, response.get_json()
    assert field_of(response) == field
    assert counts(account.caller) == (0, 0)


def test_foreign_account_and_foreign_upload(
    client: Any, account: SendAccount, other_tenant: Caller, same_tenant_other_user: Caller
) -> None:
    theirs = upload(client, same_tenant_other_user, b"%PDF-1.4 secret").get_json()["id"]
    response = post_send(client, account, attachment_ids=[theirs])
    assert response.status_code == 422 and field_of(response) == "attachment_ids"
    intruder = SendAccount(other_tenant, account.account_id, account.email)
    assert post_send(client, intruder).status_code == 404
    assert counts(account.caller) == (0, 0) and counts(other_tenant) == (0, 0)


def test_oversize_total_and_upload_limit(
    small_limits: None, app: Any, client: Any, account: SendAccount
) -> None:
    first = upload(client, account.caller, b"a" * 1500)
    assert first.status_code == 201
    assert first.get_json() == {
        "id": first.get_json()["id"],
        "filename": "report.pdf",
        "content_type": "application/pdf",
        "size": 1500,
    }
    second = upload(client, account.caller, b"b" * 1000).get_json()["id"]
    response = post_send(client, account, attachment_ids=[first.get_json()["id"], second])
    assert response.status_code == 422 and field_of(response) == "attachment_ids"
    assert "too large" in response.get_json()["error"]["message"]
    too_many = post_send(client, account, to=[f"r{i}@example.test" for i in range(4)])
    assert too_many.status_code == 422 and field_of(too_many) == "to"
    assert upload(client, account.caller, b"c" * 3000).status_code in (413, 422)
    assert counts(account.caller) == (0, 0)


def test_upload_needs_a_file(client: Any, owner: Caller) -> None:
    response = client.post(
        "/api/attachments", data={}, headers=owner.headers, content_type="multipart/form-data"
    )
    assert response.status_code == 400


def test_idempotency_key_returns_the_same_task(client: Any, account: SendAccount) -> None:
    first = post_send(client, account, key="k-123", subject="once")
    again = post_send(client, account, key="k-123", subject="once")
    assert first.status_code == again.status_code == 202
    assert first.get_json()["taskId"] == again.get_json()["taskId"]
    assert counts(account.caller) == (1, 1)
    changed = post_send(client, account, key="k-123", subject="twice")
    assert changed.status_code == 409
    other = post_send(client, account, key="k-456", subject="once")
    assert other.get_json()["taskId"] != first.get_json()["taskId"]
    assert counts(account.caller) == (2, 2)


def test_scheduled_send_and_cancel(client: Any, account: SendAccount) -> None:
    when = datetime.now(UTC) + timedelta(hours=2)
    response = post_send(client, account, send_at=when.isoformat())
    assert response.get_json()["status"] == "scheduled"
    task_id = response.get_json()["taskId"]
    row = outbox_row(account.caller, task_id)
    assert row.send_at is not None and abs((row.send_at - when).total_seconds()) < 1
    cancelled = client.delete(f"/api/email/outbox/{task_id}", headers=account.caller.headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert outbox_row(account.caller, task_id).status == "cancelled"
    past = post_send(client, account, send_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    assert past.get_json()["status"] == "queued"


@pytest.mark.parametrize("status", ["sending", "sent", "failed"])
def test_cancel_refused_once_sending(client: Any, account: SendAccount, status: str) -> None:
    task_id = post_send(client, account).get_json()["taskId"]
    with session_scope(account.caller.tenant_id) as session:
        row = session.get(OutboxMessage, task_id)
        assert row is not None
        row.status = status
    response = client.delete(f"/api/email/outbox/{task_id}", headers=account.caller.headers)
    assert response.status_code == 409
    assert outbox_row(account.caller, task_id).status == status


def test_revoking_a_send_task_cancels_its_outbox_row(client: Any, account: SendAccount) -> None:
    queued = post_send(client, account).get_json()["taskId"]
    assert client.delete(f"/api/tasks/{queued}", headers=account.caller.headers).status_code == 202
    assert outbox_row(account.caller, queued).status == "cancelled"  # no batch of another task sends it
    sent = post_send(client, account, subject="already out").get_json()["taskId"]
    with session_scope(account.caller.tenant_id) as session:
        row = session.get(OutboxMessage, sent)
        assert row is not None
        row.status = "sent"
    assert client.delete(f"/api/tasks/{sent}", headers=account.caller.headers).status_code == 409


def test_outbox_lists_newest_first_with_status_filter(client: Any, account: SendAccount) -> None:
    ids = [post_send(client, account, subject=f"m{i}").get_json()["taskId"] for i in range(3)]
    client.delete(f"/api/email/outbox/{ids[1]}", headers=account.caller.headers)
    listing = client.get("/api/email/outbox", headers=account.caller.headers).get_json()["items"]
    assert [item["id"] for item in listing] == ids[::-1]
    assert listing[0]["subject"] == "m2" and "mime" not in listing[0]
    cancelled = client.get("/api/email/outbox?status=cancelled", headers=account.caller.headers)
    assert [item["id"] for item in cancelled.get_json()["items"]] == [ids[1]]
    assert client.get("/api/email/outbox?status=bogus", headers=account.caller.headers).status_code == 400


def test_outbox_tenant_matrix(
    client: Any, account: SendAccount, other_tenant: Caller, same_tenant_other_user: Caller
) -> None:
    task_id = post_send(client, account).get_json()["taskId"]
    for intruder in (other_tenant, same_tenant_other_user):
        listing = client.get("/api/email/outbox", headers=intruder.headers).get_json()["items"]
        assert listing == []
        assert client.delete(f"/api/email/outbox/{task_id}", headers=intruder.headers).status_code == 404
        assert client.get(f"/api/tasks/{task_id}", headers=intruder.headers).status_code == 404
    assert outbox_row(account.caller, task_id).status == "queued"
    assert client.get("/api/email/outbox").status_code == 401
    assert client.delete(f"/api/email/outbox/{task_id}").status_code == 401
