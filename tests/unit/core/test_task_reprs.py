"""What logs and Flower see of task kwargs (ids_only_repr) and when Flower may start (flower_guard)."""

from __future__ import annotations

from email_service.core.tasking.start import ids_only_repr
from email_service.ops.flower_guard import flower_auth_problem


def test_only_ids_are_shown() -> None:
    shown = ids_only_repr(
        {
            "email_client_id": "acc-1",
            "tenant_id": "t",
            "email_ids": ["a", "b", "c"],
            "subject": "secret subject",
            "body": "secret body",
            "bcc": ["hidden@example.test"],
            "odd_id": {"nested": "secret"},
        }
    )
    assert "acc-1" in shown and "<3 ids>" in shown
    assert "secret" not in shown and "hidden@" not in shown


def test_flower_needs_credentials_in_the_environment() -> None:
    flower = ["/venv/bin/celery", "-A", "email_service.worker", "flower", "--port=5555"]
    assert flower_auth_problem(flower, {}) is not None
    assert flower_auth_problem(flower, {"FLOWER_BASIC_AUTH": "admin:"}) is not None
    assert flower_auth_problem(flower, {"FLOWER_BASIC_AUTH": "admin:pw"}) is None
    assert flower_auth_problem([*flower, "--basic-auth=a:b"], {"FLOWER_BASIC_AUTH": "a:b"}) is not None
    assert flower_auth_problem(["celery", "-A", "x", "worker"], {}) is None
    assert flower_auth_problem(["gunicorn", "flower"], {}) is None
