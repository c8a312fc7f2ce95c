"""Auth, JSON errors and documentation endpoints on the real app + PostgreSQL."""

from __future__ import annotations

import time

import jwt

from tests.conftest import Caller


def test_health_is_public_and_ready_checks_backends(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "broker": "ok"}


def test_every_api_path_requires_a_token(client) -> None:
    for method, path in [("get", "/api/tasks"), ("get", "/api/accounts"), ("post", "/api/email/sync")]:
        response = getattr(client, method)(path)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_refused_tokens(client, owner: Caller) -> None:
    secret = "test-secret-" + "x" * 40
    expired = jwt.encode(
        {"sub": owner.user_id, "tenant_id": owner.tenant_id, "exp": int(time.time()) - 5}, secret
    )
    forged = jwt.encode(
        {"sub": owner.user_id, "tenant_id": owner.tenant_id, "exp": int(time.time()) + 60}, "x" * 40
    )
    no_tenant = jwt.encode({"sub": owner.user_id, "exp": int(time.time()) + 60}, secret)
    wrong_tenant = jwt.encode(
        {"sub": owner.user_id, "tenant_id": "other", "exp": int(time.time()) + 60}, secret
    )
    for token, reason in [
        (expired, "expired"),
        (forged, "invalid"),
        (no_tenant, "tenant_id"),
        (wrong_tenant, "unknown"),
    ]:
        response = client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, reason
        assert reason in response.get_json()["error"]["message"]


def test_json_errors_for_client_mistakes(client, owner: Caller) -> None:
    assert client.get("/api/nope", headers=owner.headers).get_json()["error"]["code"] == "not_found"
    response = client.put("/api/tasks", headers=owner.headers)
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"
    bad_json = client.post(
        "/api/email/sync", data="{nope", headers={**owner.headers, "Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400 and bad_json.get_json()["error"]["code"] == "bad_request"
    wrong_type = client.post("/api/email/sync", json={"email_client_id": 5}, headers=owner.headers)
    assert wrong_type.status_code == 422
    assert wrong_type.get_json()["error"]["details"]["fields"][0]["field"] == "email_client_id"
    unknown = client.post("/api/email/sync", json={"email_client_id": "a", "x": 1}, headers=owner.headers)
    assert unknown.status_code == 422
    assert client.get("/api/tasks?limit=0", headers=owner.headers).status_code == 400


def test_openapi_and_docs(client) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in [
        "/api/email/sync",
        "/api/tasks/{task_id}",
        "/api/accounts",
        "/api/accounts/{account_id}/folders",
    ]:
        assert path in spec["paths"]
    assert "SyncRequest" in spec["components"]["schemas"]
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"/api/openapi.json" in page.data
