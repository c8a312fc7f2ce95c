"""Every endpoint x (owner, another user of the same tenant, another tenant): only the owner sees it.

Endpoints that need richer fixtures keep their matrix beside their other tests; OTHER_MATRICES names
them, and test_every_id_route_is_in_a_matrix fails when a new /api/ route with an id is in none.
"""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import Caller
from tests.integration.accounts.test_accounts_api import UNREACHABLE, create


@pytest.fixture
def owned(client, owner: Caller) -> dict[str, str]:
    account = create(client, owner, **UNREACHABLE)
    task = client.post("/api/email/sync", json={"email_client_id": account["id"]}, headers=owner.headers)
    return {"account": account["id"], "task": task.get_json()["taskId"]}


ENDPOINTS = [
    ("get", "/api/accounts/{account}", None),
    ("patch", "/api/accounts/{account}", {"sync_interval": 900}),
    ("post", "/api/accounts/{account}/test", None),
    ("get", "/api/accounts/{account}/folders", None),
    ("post", "/api/email/sync", {"email_client_id": "{account}"}),
    ("post", "/api/email/send", {"email_client_id": "{account}", "to": ["bob@example.test"]}),
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


ACTIONS = "messages.test_actions_api::test_strangers_get_404_on_every_action_route"
DRAFTS = "sending.test_drafts_api::test_strangers_get_404_for_every_draft_route"
OAUTH = "accounts.test_oauth_code_flow::test_strangers_get_404_on_the_oauth_routes"
WEBHOOKS = "events.test_webhooks_api::test_strangers_get_404_on_every_webhook_route"
# (METHOD, url rule) -> "module::test" holding that route's tenant matrix.
OTHER_MATRICES = {
    ("GET", "/api/email/messages/<message_id>"): (
        "messages.test_messages_api::test_only_the_owner_reads_a_message_and_its_attachment"
    ),
    ("GET", "/api/email/messages/<message_id>/attachments/<attachment_id>"): (
        "messages.test_messages_api::test_only_the_owner_reads_a_message_and_its_attachment"
    ),
    ("GET", "/api/email/messages/<message_id>/raw"): (
        "messages.test_raw_source::test_raw_source_is_the_servers_bytes_as_a_download"
    ),
    ("POST", "/api/email/messages/<message_id>/spam-check"): (
        "spam.test_spam_api::test_others_messages_are_404_on_both_endpoints"
    ),
    ("POST", "/api/email/messages/<message_id>/spam-feedback"): (
        "spam.test_spam_api::test_others_messages_are_404_on_both_endpoints"
    ),
    (
        "GET",
        "/api/email/threads/<thread_id>",
    ): "messages.test_threads_api::test_strangers_get_404_for_a_thread",
    ("GET", "/api/email/threads"): "messages.test_threads_api::test_strangers_get_404_for_a_thread",
    ("DELETE", "/api/email/outbox/<outbox_id>"): "sending.test_send_api::test_outbox_tenant_matrix",
    ("POST", "/api/email/delete"): "deletion.test_delete_api::test_strangers_cannot_hide_or_see_the_task",
    ("POST", "/api/email/restore"): "deletion.test_delete_api::test_strangers_cannot_hide_or_see_the_task",
    ("GET", "/api/changes"): "events.test_changes_feed::test_each_caller_sees_only_their_own_changes",
    ("GET", "/api/changes/cursor"): "events.test_changes_feed::test_each_caller_sees_only_their_own_changes",
    ("POST", "/api/email/drafts"): DRAFTS,
    ("GET", "/api/email/drafts"): DRAFTS,
    ("GET", "/api/email/drafts/<draft_id>"): DRAFTS,
    ("PUT", "/api/email/drafts/<draft_id>"): DRAFTS,
    ("DELETE", "/api/email/drafts/<draft_id>"): DRAFTS,
    ("POST", "/api/email/drafts/<draft_id>/send"): DRAFTS,
    ("PATCH", "/api/email/messages/<message_id>"): ACTIONS,
    ("POST", "/api/email/flags"): ACTIONS,
    ("POST", "/api/email/move"): ACTIONS,
    ("POST", "/api/accounts/<account_id>/folders"): ACTIONS,
    ("PATCH", "/api/accounts/<account_id>/folders/<folder_id>"): ACTIONS,
    ("DELETE", "/api/accounts/<account_id>/folders/<folder_id>"): ACTIONS,
    ("GET", "/api/oauth/<provider>/start"): OAUTH,
    ("POST", "/api/oauth/<provider>/callback"): OAUTH,
    ("POST", "/api/webhooks"): WEBHOOKS,
    ("GET", "/api/webhooks"): WEBHOOKS,
    ("GET", "/api/webhooks/<webhook_id>"): WEBHOOKS,
    ("PATCH", "/api/webhooks/<webhook_id>"): WEBHOOKS,
    ("DELETE", "/api/webhooks/<webhook_id>"): WEBHOOKS,
    ("GET", "/api/webhooks/<webhook_id>/deliveries"): WEBHOOKS,
}
_PLACEHOLDERS = {"{account}": "<account_id>", "{task}": "<task_id>"}


def _here() -> set[tuple[str, str]]:
    covered = set()
    for method, path, _body in ENDPOINTS:
        for short, rule in _PLACEHOLDERS.items():
            path = path.replace(short, rule)
        covered.add((method.upper(), path))
    return covered


PUBLIC_DOCS = "/api/docs/assets/"  # the docs page's files: public, no tenant data, the name is a file name


def test_every_id_route_is_in_a_matrix(app) -> None:
    """Routes with an id in the path, plus POST routes that name ids in the body, are all covered."""
    for target in set(OTHER_MATRICES.values()):
        module, test = target.split("::")
        assert hasattr(importlib.import_module(f"tests.integration.{module}"), test), target
    body_ids = {("POST", "/api/email/sync"), ("POST", "/api/email/send")} | {
        key for key in OTHER_MATRICES if "<" not in key[1]
    }
    needed = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and "<" in rule.rule and not rule.rule.startswith(PUBLIC_DOCS)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    } | body_ids
    missing = sorted(needed - _here() - set(OTHER_MATRICES))
    assert missing == [], f"add these routes to a tenant matrix: {missing}"
