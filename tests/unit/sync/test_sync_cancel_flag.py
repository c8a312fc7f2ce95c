"""The cancel flag is best effort: an unreachable Redis reads as "not cancelled", never as a stop."""

from __future__ import annotations

import redis

from email_service.sync.cancel import CancelFlag, cancel_key


def test_an_unreadable_flag_does_not_stop_the_sync() -> None:
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    assert CancelFlag(client, "task-1")() is False


def test_the_flag_is_named_after_the_task() -> None:
    assert cancel_key("abc") == "email_service:cancel:abc"
