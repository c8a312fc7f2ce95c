"""What of a task's result and error is kept on its record (pure rules)."""

from __future__ import annotations

import pytest

from email_service.core.tasking.outcomes import (
    MAX_ERROR_CHARS,
    MAX_RESULT_CHARS,
    error_payload,
    record_outcome,
    stored_result,
)


def test_secret_and_content_fields_are_dropped_and_the_rest_kept() -> None:
    result = {
        "status": "sent",
        "message_id": "<a@b>",
        "recipients_sent": 2,
        "refused": {"token-holder@example.test": {"code": 550, "reply": "no"}},  # data keys stay
        "password": "hunter2",
        "body_text": "the mail",
        "subject": "private",
        "access_token": "t",
    }
    assert stored_result(result) == {
        "status": "sent",
        "message_id": "<a@b>",
        "recipients_sent": 2,
        "refused": {"token-holder@example.test": {"code": 550, "reply": "no"}},
    }


def test_a_huge_result_shrinks_to_status_counts_and_ids() -> None:
    result = {"status": "success", "messages_synced": 3, "folder_errors": {"x" * 10: "y" * MAX_RESULT_CHARS}}
    assert stored_result(result) == {"status": "success", "messages_synced": 3}


def test_non_dict_results_are_json_copies() -> None:
    assert stored_result(None) is None
    assert stored_result([1, "a"]) == [1, "a"]


def test_errors_are_type_and_bounded_message() -> None:
    error = error_payload(ValueError("z" * (MAX_ERROR_CHARS + 50)))
    assert error["type"] == "ValueError" and len(error["message"]) == MAX_ERROR_CHARS


def test_only_final_statuses_are_recorded() -> None:
    with pytest.raises(ValueError):
        record_outcome("t", "id", "running")
