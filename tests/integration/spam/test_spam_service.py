"""check_spam / check_spam_batch on real PostgreSQL rows, per-user learning, and batch publishing."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from email_service.core.db import session_scope
from email_service.core.errors import PermanentError
from email_service.messages.model import Message
from email_service.spam.service import record_feedback, score_stored_messages
from email_service.spam.tasks import check_spam, check_spam_batch, enqueue_spam_scoring
from email_service.spam.user_model import MIN_LABELS_PER_CLASS
from tests.conftest import Caller
from tests.integration.core.queue_support import queue_list
from tests.integration.messages.test_messages_api import Mailbox, add_message, make_mailbox

PHISH = {
    "subject": "Action required: your password expires today",
    "from_name": "Microsoft 365 Admin",
    "from_address": "no-reply@secure-m365-support.top",
    "body_text": "Dear user, your mailbox password expires today. Verify your account within 24 hours.",
    "body_html": "<p>Verify your account within 24 hours.</p>"
    "<a href='http://185.243.112.9/owa/login.php'>https://outlook.office.com/login</a>",
    "headers": {"Authentication-Results": "mx.example.org; spf=fail smtp.mailfrom=x.top; dmarc=fail"},
    "message_id_header": "<a1@secure-m365-support.top>",
}
HAM = {
    "subject": "Notes from Tuesday's planning meeting",
    "from_name": "Alice Martin",
    "from_address": "alice@example.org",
    "body_text": "Hi all, thanks for joining. The next review is on Friday. Alice",
    "message_id_header": "<n1@example.org>",
}
GARDEN = {
    "subject": "Weekly garden club digest: tomatoes and compost",
    "from_name": "Garden Club",
    "from_address": "digest@garden-club.example",
    "body_text": "This week in the garden club: tomato seedlings, compost heaps and the spring fair.",
    "message_id_header": "<g1@garden-club.example>",
}


def _score(caller: Caller, message_id: str) -> float:
    with session_scope(caller.tenant_id) as session:
        (result,) = score_stored_messages(session, [message_id], caller.tenant_id, caller.user_id)
    return float(result["spam_score"])


def test_check_spam_stores_verdict_and_api_returns_it(client: Any, owner: Caller) -> None:
    box = make_mailbox(owner)
    phish, ham = add_message(box, **PHISH), add_message(box, **HAM)
    args = {"tenant_id": owner.tenant_id, "user_id": owner.user_id}
    result = check_spam.apply(kwargs={"email_id": phish, **args}).get()
    assert result["status"] == "completed" and result["is_spam"] is True
    assert 0.0 <= result["spam_score"] <= 1.0
    assert {"potential_phishing_url", "ip_literal_url", "auth_failed"} <= set(result["indicators"])
    assert result["verdict"] == "spam"
    ham_result = check_spam.apply(kwargs={"email_id": ham, **args}).get()
    assert ham_result["is_spam"] is False and ham_result["verdict"] == "ham"
    detail = client.get(f"/api/email/messages/{phish}", headers=owner.headers).get_json()
    assert detail["is_spam"] is True and detail["spam_score"] == result["spam_score"]
    assert detail["verdict"] == "spam"
    assert client.get(f"/api/email/messages/{ham}", headers=owner.headers).get_json()["verdict"] == "ham"
    assert "potential_phishing_url" in detail["spam_indicators"] and detail["spam_checked_at"]


def test_check_spam_of_someone_elses_message_fails_and_changes_nothing(
    owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller
) -> None:
    message_id = add_message(make_mailbox(owner), **PHISH)
    for intruder in (same_tenant_other_user, other_tenant):
        args = {"email_id": message_id, "tenant_id": intruder.tenant_id, "user_id": intruder.user_id}
        with pytest.raises(PermanentError):
            check_spam.apply(kwargs=args).get()
    with session_scope(owner.tenant_id) as session:
        row = session.get(Message, message_id)
        assert row is not None and row.spam_checked_at is None and row.spam_score is None


def test_batch_scores_only_the_callers_messages(owner: Caller, same_tenant_other_user: Caller) -> None:
    mine = make_mailbox(owner)
    theirs = add_message(make_mailbox(same_tenant_other_user), **PHISH)
    ids = [add_message(mine, **PHISH), add_message(mine, **HAM), theirs, "missing"]
    args = {"tenant_id": owner.tenant_id, "user_id": owner.user_id}
    assert check_spam_batch.apply(kwargs={"email_ids": ids, **args}).get() == {
        "status": "completed",
        "scored": 2,
        "spam": 1,
        "uncertain": 0,
        "moved_to_junk": 0,
    }
    with session_scope(owner.tenant_id) as session:
        other = session.get(Message, theirs)
        assert other is not None and other.spam_checked_at is None


def _train(caller: Caller, box: Mailbox) -> dict[str, Any]:
    """Label garden digests as spam and meeting notes as ham, enough to activate the user model."""
    result: dict[str, Any] = {}
    for _ in range(MIN_LABELS_PER_CLASS):
        for fields, is_spam in ((GARDEN, True), (HAM, False)):
            message_id = add_message(box, **fields)
            with session_scope(caller.tenant_id) as session:
                result = record_feedback(session, message_id, caller.tenant_id, caller.user_id, is_spam)
    return result


def test_feedback_changes_that_users_scores_and_nobody_elses(
    owner: Caller, same_tenant_other_user: Caller
) -> None:
    boxes = {c.user_id: make_mailbox(c) for c in (owner, same_tenant_other_user)}
    targets = {uid: add_message(box, **GARDEN) for uid, box in boxes.items()}
    before = {c.user_id: _score(c, targets[c.user_id]) for c in (owner, same_tenant_other_user)}
    assert before[owner.user_id] == before[same_tenant_other_user.user_id]

    counts = _train(owner, boxes[owner.user_id])
    assert counts["spam_labels"] == counts["ham_labels"] == MIN_LABELS_PER_CLASS
    assert counts["user_model_active"] is True

    assert _score(owner, targets[owner.user_id]) > 5 * before[owner.user_id]  # odds up > 5x
    assert _score(same_tenant_other_user, targets[same_tenant_other_user.user_id]) == pytest.approx(
        before[same_tenant_other_user.user_id], abs=1e-9
    )


def test_enqueue_publishes_one_task_per_batch(owner: Caller, clean_db: Any) -> None:
    broker = redis.Redis.from_url(clean_db.redis_url)
    broker.delete(queue_list("spam"))
    ids = [f"id-{n}" for n in range(1201)]
    task_ids = enqueue_spam_scoring(owner.tenant_id, owner.user_id, ids)
    queued = broker.lrange(queue_list("spam"), 0, -1)
    assert len(task_ids) == 3 and len(queued) == 3
    assert all(b"check_spam_batch" in body and owner.tenant_id.encode() in body for body in queued)
    assert enqueue_spam_scoring(owner.tenant_id, owner.user_id, []) == []
    broker.delete(queue_list("spam"))
