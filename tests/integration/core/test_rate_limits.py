"""Per-user and per-tenant rate limits (issue 16 item 3) counted in the suite's real Redis.

Each test sets small limits through the environment (re-read by the settings) and uses callers made
for it, so no counter is shared with another test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.attack_report import Attack
from tests.conftest import Caller, make_caller
from tests.integration.accounts.test_accounts_api import create
from tests.integration.notifications.notification_support import environment, relay, take_notifications
from tests.integration.sending.draft_support import post_draft
from tests.integration.sending.send_support import SendAccount, counts, make_send_account, post_send
from tests.servers.redis_server import RedisServer
from tests.servers.smtp_server import SmtpTestServer


def outbox(client: Any, caller: Caller) -> Any:
    return client.get("/api/email/outbox", headers=caller.headers)


def assert_limited(response: Any, scope: str, limit: str) -> None:
    """A 429 in the API's error shape, naming the limit, with Retry-After in whole seconds."""
    assert response.status_code == 429, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and set(error) == {"code", "message", "details"}
    assert error["details"]["scope"] == scope and error["details"]["limit"] == limit
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600 and error["details"]["retry_after"] == retry_after


def test_user_limit_answers_429_and_spares_the_other_users(
    client: Any, owner: Caller, same_tenant_other_user: Caller, other_tenant: Caller
) -> None:
    with environment(RATE_LIMIT_USER="3/minute"):
        assert [outbox(client, owner).status_code for _ in range(3)] == [200, 200, 200]
        limited = outbox(client, owner)
        assert_limited(limited, "user", "3 per 1 minute")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert client.get("/api/accounts", headers=owner.headers).status_code == 429  # every route
        assert outbox(client, same_tenant_other_user).status_code == 200
        assert outbox(client, other_tenant).status_code == 200


def test_unauthenticated_probes_are_not_counted(client: Any, owner: Caller) -> None:
    with environment(RATE_LIMIT_USER="2/minute", RATE_LIMIT_TENANT="2/minute"):
        assert {client.get("/healthz").status_code for _ in range(5)} == {200}
        assert {client.get("/api/openapi.json").status_code for _ in range(5)} == {200}
        bad = {"Authorization": "Bearer not-a-token"}
        assert {client.get("/api/email/outbox", headers=bad).status_code for _ in range(5)} == {401}
        assert [outbox(client, owner).status_code for _ in range(3)] == [200, 200, 429]


def test_tenant_limit_caps_the_sum_of_its_users(client: Any, owner: Caller, other_tenant: Caller) -> None:
    second, third = make_caller(tenant_id=owner.tenant_id), make_caller(tenant_id=owner.tenant_id)
    with environment(RATE_LIMIT_USER="100/minute", RATE_LIMIT_TENANT="4/minute"):
        for caller in (owner, owner, second, second):
            assert outbox(client, caller).status_code == 200
        assert_limited(outbox(client, third), "tenant", "4 per 1 minute")
        assert_limited(outbox(client, owner), "tenant", "4 per 1 minute")
        assert [outbox(client, other_tenant).status_code for _ in range(4)] == [200] * 4


def test_sends_per_hour_per_user_and_per_tenant(
    client: Any, owner: Caller, other_tenant: Caller, smtp: SmtpTestServer
) -> None:
    mine = make_send_account(owner, smtp)
    colleague = make_send_account(make_caller(tenant_id=owner.tenant_id), smtp)
    stranger = make_send_account(other_tenant, smtp)
    with environment(SEND_LIMIT_USER="2/hour", SEND_LIMIT_TENANT="3/hour"):
        assert [post_send(client, mine).status_code for _ in range(2)] == [202, 202]
        assert_limited(post_send(client, mine), "user", "2 per 1 hour")
        assert counts(mine.caller) == (2, 2)  # the refused send queued nothing
        assert outbox(client, mine.caller).status_code == 200  # only sending is capped this tightly
        assert post_send(client, colleague).status_code == 202
        assert_limited(post_send(client, colleague), "tenant", "3 per 1 hour")
        assert counts(colleague.caller) == (3, 3)  # the tenant's rows: 2 + 1
        assert [post_send(client, stranger).status_code for _ in range(2)] == [202, 202]


def test_a_drafts_send_counts_with_the_other_sends(client: Any, owner: Caller, smtp: SmtpTestServer) -> None:
    mine = make_send_account(owner, smtp)
    with environment(SEND_LIMIT_USER="1/hour"):
        draft = post_draft(client, mine, to=["bob@example.test"], subject="later")
        assert draft.status_code == 201, draft.get_json()
        assert post_send(client, mine).status_code == 202
        sent = client.post(f"/api/email/drafts/{draft.get_json()['id']}/send", headers=owner.headers)
        assert_limited(sent, "user", "1 per 1 hour")


def test_a_burst_of_sends_is_cut_at_the_limit(
    client: Any, owner: Caller, smtp: SmtpTestServer, attack: Attack
) -> None:
    """The finding: 500 sends in 2.5 s were all accepted."""
    account: SendAccount = make_send_account(owner, smtp)
    with environment(SEND_LIMIT_USER="20/hour"):
        statuses = [post_send(client, account).status_code for _ in range(60)]
    attack("60 sends at once under SEND_LIMIT_USER=20/hour: queued", counts(owner)[0], 20, "sends")
    assert statuses == [202] * 20 + [429] * 40


def test_notification_tests_per_hour(
    client: Any,
    owner: Caller,
    same_tenant_other_user: Caller,
    smtp: SmtpTestServer,
    tmp_path: Path,
    attack: Attack,
) -> None:
    """The finding: 30 notification tests sent 30 mails through the system relay."""
    take_notifications()
    with relay(smtp, tmp_path), environment(NOTIFICATION_TEST_LIMIT_USER="3/hour"):
        statuses = [
            client.post("/api/notifications/test", headers=owner.headers).status_code for _ in range(30)
        ]
        assert statuses == [202] * 3 + [429] * 27
        assert_limited(client.post("/api/notifications/test", headers=owner.headers), "user", "3 per 1 hour")
        assert (
            client.post("/api/notifications/test", headers=same_tenant_other_user.headers).status_code == 202
        )
    mailed = take_notifications()
    attack("30 notification tests at 3/hour, then a colleague's: mails", len(mailed), 4, "mails")
    assert len(mailed) == 4  # three for the owner, one for the colleague


def test_notification_tests_per_tenant(client: Any, owner: Caller, other_tenant: Caller) -> None:
    second = make_caller(tenant_id=owner.tenant_id)
    with environment(NOTIFICATION_TEST_LIMIT_TENANT="2/hour"):
        # No relay configured: the route answers 409, and each attempt still counts.
        for caller in (owner, second):
            assert client.post("/api/notifications/test", headers=caller.headers).status_code == 409
        assert_limited(
            client.post("/api/notifications/test", headers=second.headers), "tenant", "2 per 1 hour"
        )
        assert client.post("/api/notifications/test", headers=other_tenant.headers).status_code == 409


def test_sync_triggers_per_minute(client: Any, owner: Caller, same_tenant_other_user: Caller) -> None:
    mine, theirs = create(client, owner), create(client, same_tenant_other_user)
    with environment(SYNC_TRIGGER_LIMIT_USER="5/minute", SYNC_TRIGGER_LIMIT_TENANT="8/minute"):
        sync = {"email_client_id": mine["id"]}
        statuses = [
            client.post("/api/email/sync", json=sync, headers=owner.headers).status_code for _ in range(8)
        ]
        assert statuses == [202] * 5 + [429] * 3
        assert_limited(
            client.post("/api/email/sync", json=sync, headers=owner.headers), "user", "5 per 1 minute"
        )
        other = {"email_client_id": theirs["id"]}
        statuses = [
            client.post("/api/email/sync", json=other, headers=same_tenant_other_user.headers).status_code
            for _ in range(4)
        ]
        assert statuses == [202, 202, 202, 429]  # the tenant's 8: 5 of the owner's, 3 of these
        assert client.get("/api/accounts", headers=owner.headers).status_code == 200


def test_limits_can_be_switched_off(app: Any, owner: Caller) -> None:
    with environment(RATE_LIMITS_ENABLED="false", RATE_LIMIT_USER="1/minute"):
        from email_service import create_app

        unlimited = create_app({"TESTING": True}).test_client()
        assert {outbox(unlimited, owner).status_code for _ in range(4)} == {200}
    from email_service import create_app

    limited = create_app({"TESTING": True}).test_client()
    with environment(RATE_LIMIT_USER="1/minute"):
        assert [outbox(limited, owner).status_code for _ in range(2)] == [200, 429]


def test_redis_down_keeps_the_limits_in_memory_and_answers_no_500(owner: Caller) -> None:
    """No Redis: routes that need none still answer (no 500), and the limits hold per process."""
    from email_service import create_app

    private = RedisServer().start()
    try:
        with environment(REDIS_URL=private.url, RATE_LIMIT_USER="4/minute"):
            client = create_app({"TESTING": True}).test_client()
            assert [outbox(client, owner).status_code for _ in range(2)] == [200, 200]
            syncer = make_caller()
            account = create(client, syncer)
            private.stop()
            statuses = [outbox(client, owner).status_code for _ in range(6)]
            assert statuses == [200] * 4 + [429] * 2  # in-memory counters start afresh
            assert_limited(outbox(client, owner), "user", "4 per 1 minute")
            sync = client.post(
                "/api/email/sync", json={"email_client_id": account["id"]}, headers=syncer.headers
            )
            assert sync.status_code == 503 and sync.get_json()["error"]["code"] == "service_unavailable"
    finally:
        private.cleanup()
