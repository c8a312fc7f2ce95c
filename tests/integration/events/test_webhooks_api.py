"""The webhook registration API over HTTP (both backends): create with a secret shown once, list, show,
PATCH, DELETE, the delivery log, refusals (422/409/400), 404 for everyone but the owner, and an endpoint
disabled by failures, its owner told once, then re-enabled to receive what waited."""

from __future__ import annotations

import pytest

from email_service.core.db import session_scope
from email_service.events.log import append_changes
from email_service.events.webhooks import dispatch, signing
from email_service.events.webhooks.registry import MAX_WEBHOOKS_PER_USER
from tests.conftest import Caller
from tests.integration.notifications.notification_support import environment, take_notifications
from tests.servers.webhook_receiver import WebhookReceiver

PUBLIC = "https://hooks.example.test/in"


def _register(client, caller: Caller, url: str = PUBLIC, events: list[str] | None = None):
    return client.post(
        "/api/webhooks", json={"url": url, "events": events or ["message.created"]}, headers=caller.headers
    )


def _change(owner: Caller, n: int = 1) -> None:
    with session_scope(owner.tenant_id) as session:
        append_changes(
            session, (owner.tenant_id, owner.user_id), "message.created", None, [f"m{i}" for i in range(n)]
        )


def _deliveries(client, owner: Caller, hook_id: str, query: str = "") -> dict:
    response = client.get(f"/api/webhooks/{hook_id}/deliveries{query}", headers=owner.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_register_show_list_patch_delete(client, owner: Caller) -> None:
    created = _register(client, owner, events=["message.created", "send.sent", "message.created"])
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["secret"].startswith(signing.SECRET_PREFIX) and len(signing.secret_key(body["secret"])) == 24
    assert body["url"] == PUBLIC and body["events"] == ["message.created", "send.sent"] and body["enabled"]
    hook_id = body["id"]

    shown = client.get(f"/api/webhooks/{hook_id}", headers=owner.headers).get_json()
    assert "secret" not in shown and shown == {k: v for k, v in body.items() if k != "secret"}
    assert body["secret"] not in client.get("/api/webhooks", headers=owner.headers).get_data(as_text=True)

    patched = client.patch(
        f"/api/webhooks/{hook_id}", json={"events": ["*"], "url": PUBLIC + "2"}, headers=owner.headers
    )
    assert patched.status_code == 200 and patched.get_json()["events"] == ["*"]
    assert patched.get_json()["url"] == PUBLIC + "2"
    off = client.patch(f"/api/webhooks/{hook_id}", json={"enabled": False}, headers=owner.headers).get_json()
    assert off["enabled"] is False and off["disabled_reason"] == "disabled by its owner"

    assert client.delete(f"/api/webhooks/{hook_id}", headers=owner.headers).status_code == 204
    assert client.get(f"/api/webhooks/{hook_id}", headers=owner.headers).status_code == 404
    assert client.get("/api/webhooks", headers=owner.headers).get_json() == {"items": [], "next_cursor": None}


def test_the_list_pages_with_a_cursor(client, owner: Caller) -> None:
    ids = [_register(client, owner, url=f"{PUBLIC}/{n}").get_json()["id"] for n in range(5)]
    seen: list[str] = []
    query = "?limit=2"
    while True:
        page = client.get(f"/api/webhooks{query}", headers=owner.headers).get_json()
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        query = f"?limit=2&cursor={page['next_cursor']}"
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert client.get("/api/webhooks?cursor=garbage", headers=owner.headers).status_code == 400
    assert client.get("/api/webhooks?limit=0", headers=owner.headers).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": PUBLIC, "events": ["message.exploded"]}, "events"),
        ({"url": PUBLIC, "events": []}, "events"),
        ({"url": "ftp://hooks.example.test/in", "events": ["*"]}, "url"),
        ({"url": "not a url", "events": ["*"]}, "url"),
        ({"url": PUBLIC + "/" + "x" * 3000, "events": ["*"]}, "url"),
        ({"url": PUBLIC, "events": ["*"], "secret": "mine"}, "secret"),
        ({"url": 7, "events": ["*"]}, "url"),
    ],
)
def test_bad_registrations_are_422_and_store_nothing(client, owner: Caller, body: dict, field: str) -> None:
    response = client.post("/api/webhooks", json=body, headers=owner.headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_data(as_text=True)
    assert client.get("/api/webhooks", headers=owner.headers).get_json()["items"] == []


@pytest.mark.parametrize(
    "url",
    ["https://169.254.169.254/latest/meta-data", "https://10.1.2.3/hook", "http://93.184.215.14/hook"],
)
def test_urls_outside_the_outbound_policy_are_422(client, owner: Caller, url: str) -> None:
    """With an operator allow-list (as in production): private and metadata hosts, and plain http."""
    with environment(ALLOWED_PRIVATE_HOSTS="127.0.0.1"):
        refused = _register(client, owner, url=url)
        assert refused.status_code == 422 and "url" in refused.get_data(as_text=True), refused.get_json()
        hook = _register(client, owner, url="https://93.184.215.14/hook").get_json()
        moved = client.patch(f"/api/webhooks/{hook['id']}", json={"url": url}, headers=owner.headers)
        assert moved.status_code == 422
        shown = client.get(f"/api/webhooks/{hook['id']}", headers=owner.headers).get_json()
        assert shown["url"] == "https://93.184.215.14/hook"


def test_bad_patches_are_422_and_change_nothing(client, owner: Caller) -> None:
    hook = _register(client, owner).get_json()
    for body in ({"url": None}, {"events": None}, {"enabled": None}, {"enabled": "yes"}, {"events": ["nope"]},
                 {"events": []}, {"url": "ftp://x.test/"}, {"id": "other"}):  # fmt: skip
        response = client.patch(f"/api/webhooks/{hook['id']}", json=body, headers=owner.headers)
        assert response.status_code == 422, (body, response.get_json())
    after = client.get(f"/api/webhooks/{hook['id']}", headers=owner.headers).get_json()
    assert after == {k: v for k, v in hook.items() if k != "secret"}


def test_a_user_has_a_bounded_number_of_endpoints(client, owner: Caller, same_tenant_other_user) -> None:
    for n in range(MAX_WEBHOOKS_PER_USER):
        assert _register(client, owner, url=f"{PUBLIC}/{n}").status_code == 201
    refused = _register(client, owner, url=f"{PUBLIC}/more")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "conflict"
    assert _register(client, same_tenant_other_user).status_code == 201  # a budget per user


def test_strangers_get_404_on_every_webhook_route(
    client, owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller
) -> None:
    hook_id = _register(client, owner).get_json()["id"]
    routes = [
        ("get", f"/api/webhooks/{hook_id}", None),
        ("patch", f"/api/webhooks/{hook_id}", {"enabled": False}),
        ("get", f"/api/webhooks/{hook_id}/deliveries", None),
        ("delete", f"/api/webhooks/{hook_id}", None),
    ]
    for stranger in (same_tenant_other_user, other_tenant):
        for method, path, body in routes:
            response = getattr(client, method)(path, json=body, headers=stranger.headers)
            assert response.status_code == 404, (stranger, method, path)
            assert response.get_json()["error"]["code"] == "not_found"
        assert client.get("/api/webhooks", headers=stranger.headers).get_json()["items"] == []
        assert _register(client, stranger).status_code == 201  # their own, beside it
    shown = client.get(f"/api/webhooks/{hook_id}", headers=owner.headers).get_json()
    assert shown["enabled"] is True
    for method, path, body in routes:
        assert getattr(client, method)(path, json=body, headers=owner.headers).status_code < 300


def test_the_delivery_log_shows_each_attempt(
    client, owner: Caller, webhook_receiver: WebhookReceiver
) -> None:
    hook = _register(client, owner, url=webhook_receiver.url, events=["*"]).get_json()
    _change(owner, 3)
    pending = _deliveries(client, owner, hook["id"])["items"]
    assert [d["status"] for d in pending] == ["pending"] * 3 and all(d["attempts"] == 0 for d in pending)
    webhook_receiver.script = [500]
    dispatch.deliver([d["id"] for d in pending])

    log = _deliveries(client, owner, hook["id"])["items"]
    by_status = {d["status"] for d in log}
    assert by_status == {"pending", "delivered"}, log
    (retrying,) = [d for d in log if d["status"] == "pending"]
    assert retrying["attempts"] == 1 and retrying["last_status_code"] == 500 and retrying["next_attempt_at"]
    delivered = _deliveries(client, owner, hook["id"], "?status=delivered")["items"]
    assert len(delivered) == 2
    assert all(d["last_status_code"] == 204 and d["last_latency_ms"] is not None for d in delivered)
    got = {r.headers["webhook-id"] for r in webhook_receiver.received}
    assert got == {d["id"] for d in log}
    feed = client.get("/api/changes", headers=owner.headers).get_json()["changes"]
    assert {d["change_id"] for d in log} == {c["id"] for c in feed} and len(feed) == 3
    first = _deliveries(client, owner, hook["id"], "?limit=2")
    rest = _deliveries(client, owner, hook["id"], f"?limit=2&cursor={first['next_cursor']}")
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {d["id"] for d in first["items"] + rest["items"]} == {d["id"] for d in log}
    bad = client.get(f"/api/webhooks/{hook['id']}/deliveries?status=lost", headers=owner.headers)
    assert bad.status_code == 400


def test_failing_endpoint_is_disabled_told_once_then_re_enabled(
    client, owner: Caller, webhook_receiver: WebhookReceiver
) -> None:
    with environment(WEBHOOK_RETRY_SECONDS="0", WEBHOOK_DISABLE_AFTER_FAILURES="2"):
        hook = _register(client, owner, url=webhook_receiver.url, events=["*"]).get_json()
        take_notifications()
        webhook_receiver.script = [500] * 5
        _change(owner, 3)
        ids = [d["id"] for d in _deliveries(client, owner, hook["id"])["items"]]
        for _ in range(2):
            dispatch.deliver(ids)  # a1 b1 c1 fail, then a2 b2: two events failed for good → disabled
        shown = client.get(f"/api/webhooks/{hook['id']}", headers=owner.headers).get_json()
        assert shown["enabled"] is False and shown["consecutive_failures"] == 2, shown
        assert "failed every attempt" in shown["disabled_reason"]
        told = [p for p in take_notifications() if p.kwargs.get("template") == "webhook_disabled"]
        assert len(told) == 1, told
        waiting = _deliveries(client, owner, hook["id"], "?status=pending")["items"]
        assert len(waiting) == 1  # the third never got its turn: kept for when the endpoint is back
        assert dispatch.deliver([waiting[0]["id"]])["skipped"] == 1

        _change(owner)  # while disabled: no delivery is written for it
        assert len(_deliveries(client, owner, hook["id"])["items"]) == 3

        on = client.patch(f"/api/webhooks/{hook['id']}", json={"enabled": True}, headers=owner.headers)
        assert on.get_json()["enabled"] and on.get_json()["consecutive_failures"] == 0
        assert on.get_json()["disabled_reason"] is None
        assert waiting[0]["id"] in dispatch.due_deliveries()
        assert dispatch.deliver([waiting[0]["id"]])["delivered"] == 1
        assert webhook_receiver.received[-1].headers["webhook-id"] == waiting[0]["id"]
