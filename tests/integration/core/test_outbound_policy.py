"""Account hosts are tenant input: in production they may not point inside the network (422 at save,
refused again at connect time); TLS verifies certificates unless the account pins its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from email_service.sync.tasks import sync_emails
from tests.conftest import Caller, apply_environment
from tests.integration.accounts.test_accounts_api import ACCOUNT, create
from tests.servers.dovecot_fixtures import ImapUser
from tests.servers.smtp_server import SmtpTestServer, make_self_signed_cert


@contextmanager
def production(allowed: str = "") -> Iterator[None]:
    """Production settings (empty allow-list unless given) for the duration of the block."""
    saved = {name: os.environ.get(name) for name in ("APP_ENV", "ALLOWED_PRIVATE_HOSTS")}
    os.environ.update({"APP_ENV": "production", "ALLOWED_PRIVATE_HOSTS": allowed})
    apply_environment()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        apply_environment()


def mail_account(user: ImapUser, smtp: SmtpTestServer, **overrides: Any) -> dict[str, Any]:
    """IMAP on the test Dovecot, SMTP on the test server, one login valid on both."""
    smtp.users[user.username] = user.password
    return {
        "email_address": user.email,
        "imap_host": "127.0.0.1",
        "imap_port": user.port,
        "imap_security": "none",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_security": "starttls",
        "username": user.username,
        "password": user.password,
        "pinned_cert_pem": smtp.cert_pem,
        **overrides,
    }


PUBLIC = {**ACCOUNT, "imap_host": "8.8.8.8", "smtp_host": "8.8.4.4"}  # resolvable, public, never dialled
REFUSED = [  # (field, host, reason): each host tried on one of the two fields
    ("imap_host", "127.0.0.1", "loopback"),
    ("smtp_host", "localhost", "loopback"),
    ("imap_host", "[::1]", "loopback"),
    ("smtp_host", "10.0.0.5", "private"),
    ("imap_host", "192.168.1.20", "private"),
    ("smtp_host", "169.254.169.254", "metadata"),
    ("imap_host", "[fd00:ec2::254]", "metadata"),
    ("smtp_host", "169.254.1.1", "link-local"),
    ("imap_host", "100.64.0.1", "carrier-grade NAT"),
    ("smtp_host", "0.0.0.0", "unspecified"),
    ("imap_host", "224.0.0.1", "multicast"),
    ("smtp_host", "no-such-host.invalid", "cannot be resolved"),
]


@pytest.mark.parametrize(("field", "host", "reason"), REFUSED)
def test_create_refuses_internal_hosts(client, owner: Caller, field: str, host: str, reason: str) -> None:
    with production():
        response = client.post("/api/accounts", json={**PUBLIC, field: host}, headers=owner.headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and reason in error["message"]
    assert error["message"].startswith(field)
    assert [f["field"] for f in error["details"]["fields"]] == [field]
    assert client.get("/api/accounts", headers=owner.headers).get_json()["items"] == []


def test_both_fields_named_and_patch_refused(client, owner: Caller) -> None:
    account = create(client, owner, imap_host="8.8.8.8", smtp_host="8.8.4.4")
    with production():
        both = client.post(
            "/api/accounts",
            json={**PUBLIC, "imap_host": "10.1.1.1", "smtp_host": "127.0.0.1"},
            headers=owner.headers,
        )
        patched = client.patch(
            f"/api/accounts/{account['id']}", json={"smtp_host": "169.254.169.254"}, headers=owner.headers
        )
        harmless = client.patch(
            f"/api/accounts/{account['id']}", json={"sync_interval": 600}, headers=owner.headers
        )
    assert [f["field"] for f in both.get_json()["error"]["details"]["fields"]] == ["imap_host", "smtp_host"]
    assert patched.status_code == 422 and "metadata" in patched.get_json()["error"]["message"]
    assert harmless.status_code == 200
    stored = client.get(f"/api/accounts/{account['id']}", headers=owner.headers).get_json()
    assert stored["smtp_host"] == "8.8.4.4"


def test_allow_list_entries(client, owner: Caller) -> None:
    with production("127.0.0.1,10.0.0.0/8"):
        for host in ("127.0.0.1", "10.20.30.40"):
            ok = client.post(
                "/api/accounts", json={**PUBLIC, "imap_host": host, "smtp_host": host}, headers=owner.headers
            )
            assert ok.status_code == 201, (host, ok.get_json())
        refused = client.post(
            "/api/accounts", json={**PUBLIC, "imap_host": "192.168.0.1"}, headers=owner.headers
        )
    assert refused.status_code == 422 and "private" in refused.get_json()["error"]["message"]


def test_refused_again_at_connect_time(
    client, owner: Caller, imap_user: ImapUser, smtp: SmtpTestServer
) -> None:
    """Saved while allowed; the address is now refused (as after a DNS rebind): no connection is made."""
    account = create(client, owner, **mail_account(imap_user, smtp))
    assert client.post(f"/api/accounts/{account['id']}/test", headers=owner.headers).get_json()["ok"] is True
    connections = smtp.connections
    with production():
        result = client.post(f"/api/accounts/{account['id']}/test", headers=owner.headers).get_json()
        run = sync_emails.apply(
            kwargs={"email_client_id": account["id"], "tenant_id": owner.tenant_id, "user_id": owner.user_id}
        )
    for side in ("imap", "smtp"):
        assert result[side]["reason"] == "host_not_allowed", result
        assert result[side]["message"].startswith(
            f"{side}_host '127.0.0.1' resolves to 127.0.0.1, a loopback"
        )
    assert smtp.connections == connections
    assert run.failed() and "imap_host" in str(run.result)
    shown = client.get(f"/api/accounts/{account['id']}", headers=owner.headers).get_json()
    assert shown["state"] == "auth_error" and "loopback" in shown["last_error"]


def _test(client, owner: Caller, data: dict[str, Any]) -> dict[str, Any]:
    account = create(client, owner, **data)
    return client.post(f"/api/accounts/{account['id']}/test", headers=owner.headers).get_json()


def test_implicit_tls_needs_a_pin(client, owner: Caller, imap_user: ImapUser, smtp: SmtpTestServer) -> None:
    tls = mail_account(
        imap_user,
        smtp,
        imap_security="ssl",
        imap_port=imap_user.ssl_port,
        smtp_security="ssl",
        smtp_port=smtp.tls_port,
    )
    unpinned = _test(client, owner, {**tls, "pinned_cert_pem": None})
    for side in ("imap", "smtp"):
        assert unpinned[side]["reason"] == "certificate_refused", unpinned
        assert "self-signed certificate" in unpinned[side]["message"]
        assert "pin the certificate" in unpinned[side]["message"]
    wrong = _test(client, owner, {**tls, "pinned_cert_pem": make_self_signed_cert()[0].decode()})
    assert (wrong["imap"]["reason"], wrong["smtp"]["reason"]) == (
        "certificate_refused",
        "certificate_refused",
    )
    both_pins = imap_user.server.cert_pem.decode() + smtp.cert_pem
    with production("127.0.0.1"):
        pinned = _test(client, owner, {**tls, "pinned_cert_pem": both_pins})
    assert pinned["ok"] is True, pinned
    assert "IMAP4REV1" in pinned["imap"]["capabilities"]
