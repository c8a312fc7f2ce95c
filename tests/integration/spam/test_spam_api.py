"""POST /api/email/messages/<id>/spam-check and /spam-feedback: recording, publishing, owners only."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from email_service.core.db import session_scope
from email_service.core.tasking.model import TaskRecord
from email_service.messages.model import Message
from email_service.spam.user_model_row import UserSpamModel
from tests.conftest import Caller
from tests.integration.core.queue_support import queue_list
from tests.integration.messages.test_messages_api import add_message, make_mailbox
from tests.integration.spam.test_spam_service import HAM


@pytest.fixture
def message_id(owner: Caller) -> str:
    return add_message(make_mailbox(owner), **HAM)


def _feedback(client: Any, caller: Caller, message_id: str, body: Any) -> Any:
    return client.post(f"/api/email/messages/{message_id}/spam-feedback", json=body, headers=caller.headers)


def test_spam_check_is_recorded_then_published(
    client: Any, owner: Caller, message_id: str, clean_db: Any
) -> None:
    broker = redis.Redis.from_url(clean_db.redis_url)
    broker.delete(queue_list("spam"))
    response = client.post(f"/api/email/messages/{message_id}/spam-check", headers=owner.headers)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending"
    with session_scope(owner.tenant_id) as session:
        record = session.get(TaskRecord, body["taskId"])
        assert record is not None and record.kind == "check_spam" and record.user_id == owner.user_id
    queued = broker.lrange(queue_list("spam"), 0, -1)
    assert len(queued) == 1 and body["taskId"].encode() in queued[0] and message_id.encode() in queued[0]
    broker.delete(queue_list("spam"))


def test_feedback_counts_and_labels_the_message(client: Any, owner: Caller, message_id: str) -> None:
    first = _feedback(client, owner, message_id, {"is_spam": True})
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {
        "email_id": message_id,
        "is_spam": True,
        "spam_labels": 1,
        "ham_labels": 0,
        "user_model_active": False,
    }
    second = _feedback(client, owner, message_id, {"is_spam": False}).get_json()
    assert (second["spam_labels"], second["ham_labels"], second["is_spam"]) == (1, 1, False)
    with session_scope(owner.tenant_id) as session:
        row = session.get(Message, message_id)
        assert row is not None and row.is_spam is False
        (model,) = session.query(UserSpamModel).filter_by(user_id=owner.user_id).all()
        assert (model.spam_labels, model.ham_labels) == (1, 1) and model.weights


@pytest.mark.parametrize("intruder_name", ["same_tenant_other_user", "other_tenant"])
def test_others_messages_are_404_on_both_endpoints(
    client: Any, owner: Caller, message_id: str, intruder_name: str, request: pytest.FixtureRequest
) -> None:
    intruder: Caller = request.getfixturevalue(intruder_name)
    check = client.post(f"/api/email/messages/{message_id}/spam-check", headers=intruder.headers)
    assert check.status_code == 404 and check.get_json()["error"]["code"] == "not_found"
    feedback = _feedback(client, intruder, message_id, {"is_spam": True})
    assert feedback.status_code == 404
    with session_scope(owner.tenant_id) as session:
        row = session.get(Message, message_id)
        assert row is not None and row.is_spam is None
        assert session.query(UserSpamModel).count() == 0
        assert session.query(TaskRecord).count() == 0


def test_missing_message_and_no_token(client: Any, owner: Caller) -> None:
    assert client.post("/api/email/messages/nope/spam-check", headers=owner.headers).status_code == 404
    assert _feedback(client, owner, "nope", {"is_spam": True}).status_code == 404
    assert client.post("/api/email/messages/nope/spam-check").status_code == 401


@pytest.mark.parametrize("body", [{"is_spam": "true"}, {"is_spam": 1}, {}, {"is_spam": True, "extra": 1}])
def test_feedback_body_is_strict(client: Any, owner: Caller, message_id: str, body: dict[str, Any]) -> None:
    response = _feedback(client, owner, message_id, body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "validation_error"


def test_feedback_needs_a_json_object(client: Any, owner: Caller, message_id: str) -> None:
    response = client.post(
        f"/api/email/messages/{message_id}/spam-feedback", data="true", headers=owner.headers
    )
    assert response.status_code == 400
