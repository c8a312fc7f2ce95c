"""Outcome bookkeeping, grouping by folder and the request schemas of delete/restore."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from email_service.deletion.batches import Outcome, group_by_folder, unique_ids
from email_service.deletion.schemas import DeleteRequest, RestoreRequest
from email_service.deletion.store import Target


def target(message_id: str, account: str, folder: str, uid: int, uidvalidity: int = 1) -> Target:
    return Target(message_id, account, folder, folder, None, uidvalidity, uid, None, None, False)


def test_outcome_counts_and_status() -> None:
    outcome = Outcome(["a", "b", "c", "d"])
    assert outcome.status() == "success"
    outcome.succeed(["a"])
    outcome.fail(["b", "a"], "no")  # a stays done
    assert outcome.as_dict("deleted_count", ["a", "b"]) == {
        "status": "partial",
        "deleted_count": 1,
        "not_found": ["c", "d"],
        "failed": [{"id": "b", "reason": "no"}],
    }
    assert not outcome.retryable
    outcome.fail(["b"], "later", retryable=True)
    assert outcome.retryable
    outcome.succeed(["b"])  # a retry that worked clears the failure
    assert outcome.failed == {} and outcome.status() == "success"
    nothing = Outcome(["x"])
    nothing.fail(["x"], "no")
    assert nothing.status() == "failed"


def test_group_by_account_folder_and_uidvalidity_with_uids_ascending() -> None:
    targets = [
        target("1", "acc1", "inbox", 9),
        target("2", "acc2", "inbox2", 1),
        target("3", "acc1", "inbox", 2),
        target("4", "acc1", "archive", 5),
        target("5", "acc1", "inbox", 3, uidvalidity=2),
    ]
    groups = group_by_folder(targets)
    assert sorted(groups) == ["acc1", "acc2"]
    acc1 = {key: [t.uid for t in ts] for key, ts in groups["acc1"].items()}
    assert acc1 == {("acc1", "archive", 1): [5], ("acc1", "inbox", 1): [2, 9], ("acc1", "inbox", 2): [3]}


def test_unique_ids_keep_order() -> None:
    assert unique_ids(["b", "a", "b"]) == ["b", "a"]


@pytest.mark.parametrize("model", [DeleteRequest, RestoreRequest])
@pytest.mark.parametrize(
    ("ids", "loc"),
    [
        ([], ("email_ids",)),
        (["x"] * 1001, ("email_ids",)),
        ([3], ("email_ids", 0)),
        (["a" * 65], ("email_ids", 0)),
    ],
)
def test_request_schema_rejects(model: type[BaseModel], ids: list[object], loc: tuple[object, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate({"email_ids": ids})
    assert info.value.errors()[0]["loc"] == loc


def test_request_schema_accepts_the_maximum() -> None:
    body = DeleteRequest.model_validate({"email_ids": [f"{i}" for i in range(1000)], "permanent": True})
    assert len(body.email_ids) == 1000 and body.permanent
    assert DeleteRequest.model_validate({"email_ids": ["a"]}).permanent is False
    with pytest.raises(ValidationError):
        DeleteRequest.model_validate({"email_ids": ["a"], "permanent": 1})


def test_outcome_knows_which_failures_a_retry_may_still_fix() -> None:
    """A permanent delete shows refused rows again at once, transient ones only on its last attempt."""
    outcome = Outcome(["a", "b", "c"])
    outcome.fail(["a"], "refused")
    outcome.fail(["b", "c"], "connection lost", retryable=True)
    assert outcome.retryable and outcome.transient == {"b", "c"}
    outcome.fail(["c"], "NO from the server")  # the same id failing for good is no longer transient
    outcome.succeed(["b"])
    assert outcome.transient == set() and set(outcome.failed) == {"a", "c"}
