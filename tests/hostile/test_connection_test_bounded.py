"""Issue 16 item 5: POST /api/accounts/<id>/test against hosts that never answer, answer garbage or
trickle bytes answers within CONNECTION_TEST_SECONDS, in our own words, never the remote's bytes."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from email_service.core.config import CONNECTION_TEST_MAX_SECONDS, load_settings
from tests.attack_report import Attack
from tests.conftest import Caller, apply_environment
from tests.hostile.slow_servers import misbehaving_server

BUDGET = 4  # seconds, set through the environment; the default is the 15 s bound itself
GARBAGE = b"* OK [CAPABILITY IMAP4rev1 SECRET-BANNER-7f3a] internal.example ready\r\n"
OUR_WORDS = {
    "connection timed out",
    "TLS handshake failed",
    "authentication failed",
    "unexpected server response",
    "connection failed",
}


@pytest.fixture
def short_budget() -> Iterator[None]:
    os.environ["CONNECTION_TEST_SECONDS"] = str(BUDGET)
    apply_environment()
    try:
        yield
    finally:
        os.environ.pop("CONNECTION_TEST_SECONDS", None)
        apply_environment()


def _account(client: Any, owner: Caller, port: int, security: str) -> str:
    body = {
        "email_address": "me@example.test",
        "imap_host": "127.0.0.1",
        "imap_port": port,
        "imap_security": security,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": security,
        "username": "me",
        "password": "pw",
    }
    response = client.post("/api/accounts", json=body, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_the_bound_is_fifteen_seconds_at_most() -> None:
    assert CONNECTION_TEST_MAX_SECONDS == 15
    env = {k: v for k, v in os.environ.items() if k != "CONNECTION_TEST_SECONDS"}
    assert load_settings(env).connection_test_seconds == 15
    assert load_settings({**env, "CONNECTION_TEST_SECONDS": "120"}).connection_test_seconds == 15


@pytest.mark.parametrize(
    ("mode", "security"),
    [
        ("silent", "none"),
        ("silent", "ssl"),
        ("garbage", "none"),
        ("garbage", "starttls"),
        ("trickle", "none"),
    ],
)
def test_connection_test_is_bounded_and_in_our_words(
    client: Any, owner: Caller, short_budget: None, mode: str, security: str, attack: Attack
) -> None:
    with misbehaving_server(mode, GARBAGE, interval=0.5) as port:
        account_id = _account(client, owner, port, security)
        started = time.monotonic()
        response = client.post(f"/api/accounts/{account_id}/test", headers=owner.headers)
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    attack(f"connection test against a {mode} host ({security}): answered in", elapsed, BUDGET + 1.0)
    assert result["ok"] is False
    text = response.get_data(as_text=True)
    assert "SECRET-BANNER" not in text and "CAPABILITY" not in text and "internal.example" not in text
    for side in ("imap", "smtp"):
        assert result[side]["message"] in OUR_WORDS, result
    if mode in {"silent", "trickle"}:
        assert result["imap"]["reason"] == result["smtp"]["reason"] == "timed_out", result
