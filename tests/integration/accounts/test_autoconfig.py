"""GET /api/autoconfig and address-only account creation against a real DNS server on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Caller
from tests.integration.notifications.notification_support import environment
from tests.servers.dns_server import DnsTestServer

SRV_ZONE = {
    # Priority 10 beats 20; within 10 the heavier weight wins.
    ("_imaps._tcp.srv.test", "SRV"): [
        "20 50 993 backup.srv.test.",
        "10 1 993 imap-light.srv.test.",
        "10 9 993 imap.srv.test.",
    ],
    # "." is RFC 2782's "no service": implicit-TLS submission is refused, STARTTLS on 587 is used.
    ("_submissions._tcp.srv.test", "SRV"): ["0 0 0 ."],
    ("_submission._tcp.srv.test", "SRV"): ["0 1 587 smtp.srv.test."],
    ("_pop3s._tcp.srv.test", "SRV"): ["0 1 995 pop.srv.test."],
    # Only IMAP by SRV: not enough, and its MX names no provider.
    ("_imaps._tcp.half.test", "SRV"): ["0 1 993 imap.half.test."],
    ("half.test", "MX"): ["10 mx.half.test."],
    # A target with a space in a label (escaped by DNS) is not a host name: refused, not stored.
    ("_imaps._tcp.hostile.test", "SRV"): ["0 1 993 bad\\032name.hostile.test."],
    ("_submissions._tcp.hostile.test", "SRV"): ["0 1 465 smtp.hostile.test."],
    ("workspace.test", "MX"): ["5 alt1.aspmx.l.google.com.", "1 aspmx.l.google.com."],
    ("m365.test", "MX"): ["0 m365-test.mail.protection.outlook.com."],
    ("elsewhere.test", "MX"): ["10 mx.elsewhere.test."],
}


@pytest.fixture
def dns(dns_zone: DnsTestServer) -> DnsTestServer:
    dns_zone.zone = {key: list(records) for key, records in SRV_ZONE.items()}
    dns_zone.silent = {"silent.test"}
    dns_zone.servfail = {"servfail.test"}
    dns_zone.garbage = {"garbage.test"}
    return dns_zone


def autoconfig(client, caller: Caller, email: str):
    return client.get("/api/autoconfig", query_string={"email": email}, headers=caller.headers)


def test_table_hit_needs_no_dns(client, owner: Caller, dns: DnsTestServer) -> None:
    response = autoconfig(client, owner, "Someone@GMail.com")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["provider"] == "Gmail" and body["source"] == "table"
    assert body["imap"] == {"host": "imap.gmail.com", "port": 993, "security": "ssl"}
    assert body["smtp"] == {"host": "smtp.gmail.com", "port": 465, "security": "ssl"}
    assert body["pop3"] == {"host": "pop.gmail.com", "port": 995, "security": "ssl"}
    assert body["provider_saves_sent"] is True and "oauth2" in body["auth_types"]
    assert any("X-GM-EXT-1" in q for q in body["quirks"])
    assert dns.queries == []


def test_srv_records_in_priority_and_weight_order(client, owner: Caller, dns: DnsTestServer) -> None:
    body = autoconfig(client, owner, "me@srv.test").get_json()
    assert body["source"] == "srv" and body["provider"] == "srv.test"
    assert body["imap"] == {"host": "imap.srv.test", "port": 993, "security": "ssl"}
    assert body["smtp"] == {"host": "smtp.srv.test", "port": 587, "security": "starttls"}
    assert body["pop3"] == {"host": "pop.srv.test", "port": 995, "security": "ssl"}
    assert body["auth_types"] == ["password"] and body["provider_saves_sent"] is False
    assert ("_imaps._tcp.srv.test", "SRV") in dns.queries


@pytest.mark.parametrize(
    ("domain", "provider", "imap_host", "smtp"),
    [
        ("workspace.test", "Google Workspace", "imap.gmail.com", ("smtp.gmail.com", 465, "ssl")),
        ("m365.test", "Microsoft 365", "outlook.office365.com", ("smtp.office365.com", 587, "starttls")),
    ],
)
def test_mx_match(client, owner: Caller, dns: DnsTestServer, domain, provider, imap_host, smtp) -> None:
    response = autoconfig(client, owner, f"me@{domain}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["provider"], body["source"], body["imap"]["host"]) == (provider, "mx", imap_host)
    assert (body["smtp"]["host"], body["smtp"]["port"], body["smtp"]["security"]) == smtp
    assert (domain, "MX") in dns.queries


@pytest.mark.parametrize("domain", ["nowhere.test", "elsewhere.test", "half.test", "hostile.test"])
def test_unknown_domain_is_404(client, owner: Caller, dns: DnsTestServer, domain: str) -> None:
    response = autoconfig(client, owner, f"me@{domain}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert (domain, "MX") in dns.queries


@pytest.mark.parametrize(
    "email",
    ["nope", "a@b", "a@@b.test", "@b.test", "a b@c.test", "a@-x-.test", "a@" + "x" * 64 + ".test", ""],
)
def test_bad_email_is_422(client, owner: Caller, dns: DnsTestServer, email: str) -> None:
    response = autoconfig(client, owner, email)
    assert response.status_code == 422, email
    assert response.get_json()["error"]["details"]["fields"][0]["field"] == "email"
    assert dns.queries == []


def test_missing_email_is_422(client, owner: Caller) -> None:
    response = client.get("/api/autoconfig", headers=owner.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def test_silent_dns_is_answered_within_the_bound(client, owner: Caller, dns: DnsTestServer) -> None:
    started = time.monotonic()
    response = autoconfig(client, owner, "me@silent.test")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
    # Each lookup has 3 s and all run at once: about 3 s, never more than the 6 s bound.
    assert 2.5 <= elapsed <= 6.0, elapsed
    assert ("_imaps._tcp.silent.test", "SRV") in dns.queries


@pytest.mark.parametrize("domain", ["servfail.test", "garbage.test"])
def test_failing_dns_is_503_not_500(client, owner: Caller, dns: DnsTestServer, domain: str) -> None:
    started = time.monotonic()
    response = autoconfig(client, owner, f"me@{domain}")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert time.monotonic() - started <= 6.0
    assert (domain, "MX") in dns.queries


def test_unauthenticated_is_401(client, dns: DnsTestServer) -> None:
    response = client.get("/api/autoconfig", query_string={"email": "me@gmail.com"})
    assert response.status_code == 401
    assert "error" in response.get_json()


def _stored(client, caller: Caller, account_id: str) -> dict:
    response = client.get(f"/api/accounts/{account_id}", headers=caller.headers)
    assert response.status_code == 200
    return response.get_json()


def test_account_from_address_and_password_alone(client, owner: Caller, dns: DnsTestServer) -> None:
    body = {"email_address": "me@gmail.com", "password": "app-password"}
    response = client.post("/api/accounts", json=body, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    stored = _stored(client, owner, response.get_json()["id"])
    assert (stored["imap_host"], stored["imap_port"], stored["imap_security"]) == (
        "imap.gmail.com",
        993,
        "ssl",
    )
    assert (stored["smtp_host"], stored["smtp_port"], stored["smtp_security"]) == (
        "smtp.gmail.com",
        465,
        "ssl",
    )
    assert stored["username"] == "me@gmail.com" and stored["provider_saves_sent"] is True


def test_account_from_srv_keeps_the_given_username(client, owner: Caller, dns: DnsTestServer) -> None:
    body = {"email_address": "me@srv.test", "username": "me", "password": "pw", "provider_saves_sent": True}
    response = client.post("/api/accounts", json=body, headers=owner.headers)
    assert response.status_code == 201, response.get_json()
    stored = _stored(client, owner, response.get_json()["id"])
    assert (stored["imap_host"], stored["smtp_host"], stored["smtp_port"]) == (
        "imap.srv.test",
        "smtp.srv.test",
        587,
    )
    assert stored["smtp_security"] == "starttls"
    assert stored["username"] == "me" and stored["provider_saves_sent"] is True


def test_account_without_hosts_and_nothing_found_is_422(client, owner: Caller, dns: DnsTestServer) -> None:
    body = {"email_address": "me@nowhere.test", "password": "pw"}
    response = client.post("/api/accounts", json=body, headers=owner.headers)
    assert response.status_code == 422
    fields = [f["field"] for f in response.get_json()["error"]["details"]["fields"]]
    assert fields == ["imap_host", "smtp_host"]
    assert client.get("/api/accounts", headers=owner.headers).get_json()["items"] == []


def test_account_with_one_host_is_422(client, owner: Caller, dns: DnsTestServer) -> None:
    body = {
        "email_address": "me@gmail.com",
        "password": "pw",
        "imap_host": "imap.gmail.com",
        "username": "me",
    }
    response = client.post("/api/accounts", json=body, headers=owner.headers)
    assert response.status_code == 422
    assert "smtp_host" in response.get_json()["error"]["details"]["fields"][0]["message"]
    assert dns.queries == []


def test_autoconfig_has_its_own_rate_limit(client, owner: Caller, dns: DnsTestServer) -> None:
    with environment(AUTOCONFIG_LIMIT_USER="3/minute"):
        statuses = [autoconfig(client, owner, "me@gmail.com").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = autoconfig(client, owner, "me@gmail.com").get_json()["error"]
        assert limited["code"] == "rate_limited" and limited["details"]["limit"] == "3 per 1 minute"
        assert client.get("/api/accounts", headers=owner.headers).status_code == 200


def test_account_creation_with_silent_dns_is_503_within_the_bound(
    client, owner: Caller, dns: DnsTestServer
) -> None:
    started = time.monotonic()
    response = client.post(
        "/api/accounts", json={"email_address": "me@silent.test", "password": "pw"}, headers=owner.headers
    )
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert time.monotonic() - started <= 6.0
    assert client.get("/api/accounts", headers=owner.headers).get_json()["items"] == []
