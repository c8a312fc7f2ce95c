"""Hostile input against the real API: every answer is the JSON error format, never a 500."""

from __future__ import annotations

import logging
import time
from typing import Any

import jwt
import pytest

from email_service.core.logging_setup import ContextFilter
from tests.conftest import Caller
from tests.integration.sending.send_support import SendAccount, make_send_account, post_send
from tests.servers.smtp_server import SmtpTestServer

ACCOUNT = {
    "email_address": "me@example.test",
    "imap_host": "imap.example.test",
    "smtp_host": "smtp.example.test",
    "username": "me@example.test",
    "password": "correct horse battery staple",
}


@pytest.fixture
def account(owner: Caller, smtp: SmtpTestServer) -> SendAccount:
    return make_send_account(owner, smtp)


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    error: dict[str, Any] = response.get_json()["error"]
    return error


def field_of(response: Any) -> str:
    return str(error_of(response, 422)["details"]["fields"][0]["field"])


def test_json_nested_5000_deep_is_a_400(client: Any, owner: Caller) -> None:
    headers = {**owner.headers, "Content-Type": "application/json"}
    for depth in (5000, 100):
        body = '{"email_client_id": ' + "[" * depth + "]" * depth + "}"
        error = error_of(client.post("/api/email/sync", data=body, headers=headers), 400)
        assert error["code"] == "bad_request" and "nested" in error["message"]
    shallow = client.post("/api/email/sync", json={"email_client_id": [[["x"]]]}, headers=owner.headers)
    assert shallow.status_code == 422  # within the limit the schema decides


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"body_text": "hi \ud800 there"}, "body_text"),
        ({"subject": "\udfff"}, "subject"),
        ({"to": ["bob@example.test", "\ud83d@example.test"]}, "to.1"),
        ({"body_html": "<p>\udc00</p>"}, "body_html"),
    ],
)
def test_lone_surrogate_in_a_string_is_a_422(
    client: Any, account: SendAccount, fields: dict[str, Any], path: str
) -> None:
    response = post_send(client, account, **fields)
    assert field_of(response) == path
    assert "surrogate" in error_of(response, 422)["details"]["fields"][0]["message"]


def test_lone_surrogate_in_an_account_field_or_a_key_is_a_422(client: Any, owner: Caller) -> None:
    created = client.post(
        "/api/accounts", json={**ACCOUNT, "display_name": "Me \ud800"}, headers=owner.headers
    )
    assert field_of(created) == "display_name"
    key = client.post("/api/email/sync", json={"\udbff": 1}, headers=owner.headers)
    assert error_of(key, 422)["code"] == "validation_error"
    paired = client.post(  # a real pair (an emoji) is fine
        "/api/accounts", json={**ACCOUNT, "display_name": "Me \U0001f600"}, headers=owner.headers
    )
    assert paired.status_code == 201 and paired.get_json()["display_name"] == "Me \U0001f600"


@pytest.mark.parametrize("send_at", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_send_at_outside_the_range_in_utc_is_a_422(client: Any, account: SendAccount, send_at: str) -> None:
    assert field_of(post_send(client, account, send_at=send_at)) == "send_at"


def test_jwt_with_a_huge_exp_is_a_401(client: Any, owner: Caller) -> None:
    secret = "test-secret-" + "x" * 40
    for exp in (10**400, 10**20):
        token = jwt.encode({"sub": owner.user_id, "tenant_id": owner.tenant_id, "exp": exp}, secret)
        response = client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})
        assert error_of(response, 401)["code"] == "unauthorized"
    fine = jwt.encode(
        {"sub": owner.user_id, "tenant_id": owner.tenant_id, "exp": int(time.time()) + 60}, secret
    )
    assert client.get("/api/tasks", headers={"Authorization": f"Bearer {fine}"}).status_code == 200


INJECTIONS = ["\r\nA1 DELETE INBOX", "\nX", "\rX"]


@pytest.mark.parametrize("tail", INJECTIONS)
@pytest.mark.parametrize(
    "field", ["username", "password", "imap_host", "smtp_host", "email_address", "display_name"]
)
def test_line_breaks_in_account_fields_are_a_422(client: Any, owner: Caller, field: str, tail: str) -> None:
    value = ACCOUNT.get(field, "Me") + tail
    assert (
        field_of(client.post("/api/accounts", json={**ACCOUNT, field: value}, headers=owner.headers)) == field
    )


def test_line_breaks_in_an_account_update_are_a_422(client: Any, owner: Caller) -> None:
    created = client.post("/api/accounts", json=ACCOUNT, headers=owner.headers).get_json()
    for field in ("username", "password", "imap_host", "smtp_host"):
        patch = {field: "x\r\nA1 LOGOUT"}
        response = client.patch(f"/api/accounts/{created['id']}", json=patch, headers=owner.headers)
        assert field_of(response) == field


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"subject": "Hi\r\nBcc: eve@evil.test"}, "subject"),
        ({"to": ["bob@example.test\r\nRCPT TO:<eve@evil.test>"]}, "to"),  # refused by the service before
        ({"cc": ["carol@example.test\n"]}, "cc"),
        ({"bcc": ["\rdave@example.test"]}, "bcc"),
    ],
)
def test_line_breaks_in_send_fields_are_a_422(
    client: Any, account: SendAccount, smtp: SmtpTestServer, fields: dict[str, Any], path: str
) -> None:
    assert field_of(post_send(client, account, **fields)) == path
    assert smtp.messages == []


def test_the_log_context_is_cleared_after_each_request(client: Any, owner: Caller) -> None:
    """A pooled thread must not log a later request (or anything else) under this caller's identity."""
    assert client.get("/api/tasks", headers=owner.headers).status_code == 200
    record = logging.LogRecord("after", logging.INFO, __file__, 1, "next line on this thread", None, None)
    ContextFilter().filter(record)
    assert (record.tenant_id, record.user_id) == (None, None)  # type: ignore[attr-defined]
    anonymous = client.get("/healthz")  # the next request on this thread, without a token
    assert anonymous.status_code == 200
    ContextFilter().filter(second := logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None))
    assert second.tenant_id is None  # type: ignore[attr-defined]
