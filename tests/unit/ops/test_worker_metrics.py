"""Which Redis counters a finished task increments (pure mapping from name, state and result)."""

from __future__ import annotations

from email_service.ops.worker_metrics import SEND_KEY, SYNC_KEY, TASKS_KEY, increments

SYNC = "email_service.tasks.sync_emails"
SEND = "email_service.tasks.send_email"


def test_sync_success_counts_messages_by_kind() -> None:
    result = {"status": "success", "messages_synced": 5, "messages_updated": 2, "messages_deleted": 0}
    assert increments(SYNC, "success", result) == [
        (TASKS_KEY, f"{SYNC} success", 1),
        (SYNC_KEY, "synced", 5),
        (SYNC_KEY, "updated", 2),
        (SYNC_KEY, "deleted", 0),
    ]


def test_send_outcomes() -> None:
    assert increments(SEND, "success", {"status": "partially_sent"})[1] == (SEND_KEY, "partially_sent", 1)
    assert increments(SEND, "failure", None) == [(TASKS_KEY, f"{SEND} failure", 1), (SEND_KEY, "failed", 1)]
    assert increments(SEND, "retry", None) == [(TASKS_KEY, f"{SEND} retry", 1)]


def test_other_tasks_count_only_their_state() -> None:
    assert increments("email_service.tasks.check_spam", "success", {"is_spam": True}) == [
        (TASKS_KEY, "email_service.tasks.check_spam success", 1)
    ]
