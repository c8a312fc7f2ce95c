"""Accounts CRUD: secrets encrypted at rest and never returned; validation; ownership."""

from __future__ import annotations

from sqlalchemy import text

from email_service.core.db import make_engine
from tests.conftest import Caller, ServerSet

ACCOUNT = {
    "email_address": "me@example.test",
    "imap_host": "imap.example.test",
    "imap_port": 993,
    "imap_security": "ssl",
    "smtp_host": "smtp.example.test",
    "smtp_port": 465,
    "smtp_security": "ssl",
    "username": "me@example.test",
    "password": "correct horse battery staple",
}


def create(client, caller: Caller, **overrides: object) -> dict:
    response = client.post("/api/accounts", json={**ACCOUNT, **overrides}, headers=caller.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_list_get_update_delete(client, owner: Caller) -> None:
    account = create(client, owner)
    assert "password" not in account and "secret_ciphertext" not in account
    assert account["state"] == "active"
    listed = client.get("/api/accounts", headers=owner.headers).get_json()["items"]
    assert [a["id"] for a in listed] == [account["id"]]
    patched = client.patch(
        f"/api/accounts/{account['id']}",
        json={"is_sync_enabled": False, "sync_interval": 600},
        headers=owner.headers,
    )
    assert patched.status_code == 200
    assert (patched.get_json()["is_sync_enabled"], patched.get_json()["sync_interval"]) == (False, 600)
    assert client.delete(f"/api/accounts/{account['id']}", headers=owner.headers).status_code == 204
    assert client.get(f"/api/accounts/{account['id']}", headers=owner.headers).status_code == 404


def test_password_is_encrypted_at_rest(client, owner: Caller, clean_db: ServerSet) -> None:
    account = create(client, owner)
    engine = make_engine(clean_db.db.admin_url)
    with engine.connect() as conn:
        query = text("SELECT * FROM email_accounts WHERE id = :id")
        row = conn.execute(query, {"id": account["id"]}).fetchone()
    engine.dispose()
    assert row is not None
    assert not any(ACCOUNT["password"] in str(value) for value in row)
    assert any(str(value).startswith("v1.k2.") for value in row)


def test_validation_names_the_field(client, owner: Caller) -> None:
    for field, value in [
        ("imap_port", 0),
        ("imap_security", "tls"),
        ("email_address", "nope"),
        ("sync_interval", 5),
        ("imap_host", "bad host;"),
        ("password", ""),
    ]:
        response = client.post("/api/accounts", json={**ACCOUNT, field: value}, headers=owner.headers)
        assert response.status_code == 422, field
        assert response.get_json()["error"]["details"]["fields"][0]["field"] == field
    missing = {k: v for k, v in ACCOUNT.items() if k != "username"}
    assert client.post("/api/accounts", json=missing, headers=owner.headers).status_code == 422


# An account whose servers refuse connections (nothing listens on port 1).
UNREACHABLE = {
    "imap_host": "127.0.0.1",
    "imap_port": 1,
    "smtp_host": "127.0.0.1",
    "smtp_port": 1,
    "imap_security": "none",
    "smtp_security": "none",
}


def test_connection_test_reports_which_side_failed(client, owner: Caller) -> None:
    account = create(client, owner, **UNREACHABLE)
    result = client.post(f"/api/accounts/{account['id']}/test", headers=owner.headers).get_json()
    assert result["ok"] is False
    assert result["imap"]["reason"] == "connection_failed"
    assert result["smtp"]["reason"] == "connection_failed"


def test_push_enabled_defaults_on_and_is_settable(client, owner: Caller, other_tenant: Caller) -> None:
    account = create(client, owner)
    assert account["push_enabled"] is True
    assert create(client, owner, push_enabled=False)["push_enabled"] is False
    url = f"/api/accounts/{account['id']}"
    patched = client.patch(url, json={"push_enabled": False}, headers=owner.headers)
    assert patched.status_code == 200 and patched.get_json()["push_enabled"] is False
    assert client.patch(url, json={"push_enabled": None}, headers=owner.headers).status_code == 422
    assert client.patch(url, json={"push_enabled": "maybe"}, headers=owner.headers).status_code == 422
    assert client.patch(url, json={"push_enabled": True}, headers=other_tenant.headers).status_code == 404
