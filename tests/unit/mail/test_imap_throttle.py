"""Throttling replies as providers send them are "retry later", with the wait they name honoured."""

from __future__ import annotations

import imaplib
import random

import pytest

from email_service.core.tasking.base import retry_countdown
from email_service.mail.imap.auth import refused
from email_service.mail.imap.throttle import MAX_SUGGESTED_SECONDS, is_throttled, suggested_seconds
from email_service.mail.imap.types import ImapAuthError, ImapConnectionError, ImapThrottled

GMAIL_CONNECTIONS = "[ALERT] Too many simultaneous connections. (Failure)"
GMAIL_BANDWIDTH = "[ALERT] Account exceeded command or bandwidth limits. (Failure)"
MICROSOFT = "Request is throttled. Suggested Backoff Time: 299961 milliseconds"
GENERIC = "[THROTTLED] Slow down"


@pytest.mark.parametrize("text", [GMAIL_CONNECTIONS, GMAIL_BANDWIDTH, MICROSOFT, GENERIC, "[LIMIT] too many"])
def test_provider_throttling_is_recognised(text: str) -> None:
    assert is_throttled(text)
    error = refused(imaplib.IMAP4.error(text))
    assert isinstance(error, ImapThrottled) and isinstance(error, ImapConnectionError)


@pytest.mark.parametrize(
    "text",
    ["[AUTHENTICATIONFAILED] Invalid credentials (Failure)", "LOGIN failed.", "[ALERT] Web login required"],
)
def test_refused_credentials_stay_auth_errors(text: str) -> None:
    assert not is_throttled(text)
    assert type(refused(imaplib.IMAP4.error(text))) is ImapAuthError


def test_the_suggested_wait_is_read_and_capped() -> None:
    assert suggested_seconds(MICROSOFT) == pytest.approx(299.961)
    assert suggested_seconds("Suggested Backoff Time: 30 seconds") == 30
    assert suggested_seconds("Suggested Backoff Time: 99999999999 milliseconds") == MAX_SUGGESTED_SECONDS
    assert suggested_seconds(GMAIL_CONNECTIONS) is None


def test_a_retry_waits_at_least_what_the_server_asked() -> None:
    rng = random.Random(1)
    asked = ImapThrottled("throttled", retry_after=300.0)
    assert all(300.0 <= retry_countdown(asked, n, rng) <= 330.0 for n in range(3))
    unnamed = ImapThrottled("throttled")
    assert 4.0 <= retry_countdown(unnamed, 0, rng) <= 6.0  # the task's own backoff
    assert 480.0 <= retry_countdown(ImapThrottled("x", retry_after=1.0), 10, rng) <= 600.0  # ours is longer
