"""Every endpoint x (owner, another user of the same tenant, another tenant): only the owner sees it."""

from __future__ import annotations

import pytest

from tests.conftest import Caller
from tests.integration.test_accounts_api import create


@pytest.fixture
def owned(client, owner: Caller) -> dict[str, str]:
    account = create(
        client,
        owner,
        imap_host="127.0.0.1",
        imap_port=1,
        smtp_host="127.0.0.1",
        smtp_port=1,
        imap_security="none",
        smtp_security="none",
    )
    task = client.post("/api/email/sync", json={"email_client_id": account["id"]}, headers=owner.headers)
    return {"account": account["id"], "task": task.get_json()["taskId"]}


ENDPOINTS = [
    ("get", "/api/accounts/{account}", None),
    ("patch", "/api/accounts/{account}", {"sync_interval": 900}),
    ("post", "/api/accounts/{account}/test", None),
    ("get", "/api/accounts/{account}/folders", None),
    ("post", "/api/email/sync", {"email_client_id": "{account}"}),
    ("get", "/api/tasks/{task}", None),
    ("delete", "/api/tasks/{task}", None),
    ("delete", "/api/accounts/{account}", None),
]


def _call(client, caller: Caller, method: str, path: str, body, ids: dict[str, str]):
    url = path.format(**ids)
    json = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()} if body else None
    return getattr(client, method)(url, json=json, headers=caller.headers)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_only_the_owner(
    client, owned, owner, same_tenant_other_user, other_tenant, method, path, body
) -> None:
    for stranger in (same_tenant_other_user, other_tenant):
        response = _call(client, stranger, method, path, body, owned)
        assert response.status_code == 404, (stranger, method, path)
        assert response.get_json()["error"]["code"] == "not_found"
    assert _call(client, owner, method, path, body, owned).status_code < 300


def test_lists_show_only_own_rows(client, owned, owner, same_tenant_other_user, other_tenant) -> None:
    for stranger in (same_tenant_other_user, other_tenant):
        assert client.get("/api/accounts", headers=stranger.headers).get_json()["items"] == []
        assert client.get("/api/tasks", headers=stranger.headers).get_json()["items"] == []
    assert len(client.get("/api/accounts", headers=owner.headers).get_json()["items"]) == 1
