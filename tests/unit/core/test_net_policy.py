"""Outbound policy: which addresses a tenant-controlled host may resolve to, and the allow-list forms."""

from __future__ import annotations

import ipaddress

import pytest

from email_service.core.net_policy import AllowList, HostNotAllowed, check_host, refusal_reason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.20.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.64.1.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "reserved"),
    ],
)
def test_refused_addresses(address: str, reason: str) -> None:
    found = refusal_reason(ipaddress.ip_address(address))
    assert found is not None and reason in found


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "100.128.0.1"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


def test_allow_list_entries() -> None:
    allow = AllowList(("127.0.0.1", "LocalHost", "10.0.0.0/8", "fd00::/8", "not-an-ip"))
    ip = ipaddress.ip_address
    assert allow.allows("x", ip("127.0.0.1")) and not allow.allows("x", ip("127.0.0.2"))
    assert allow.allows("localhost.", ip("::1"))  # a name entry trusts whatever that name resolves to
    assert allow.allows("x", ip("10.200.0.1")) and not allow.allows("x", ip("192.168.0.1"))
    assert allow.allows("x", ip("fd00:ec2::254"))
    assert AllowList(("*",)).allows("x", ip("169.254.169.254"))
    assert not AllowList(()).allows("localhost", ip("127.0.0.1"))


def test_check_host_on_literals() -> None:
    nothing = AllowList(())
    for host, reason in [("127.0.0.1", "loopback"), ("[::1]", "loopback"), ("169.254.169.254", "metadata")]:
        with pytest.raises(HostNotAllowed, match=reason):
            check_host(host, 993, nothing)
    check_host("8.8.8.8", 993, nothing)
    check_host("127.0.0.1", 993, AllowList(("127.0.0.0/8",)))
    with pytest.raises(HostNotAllowed, match="cannot be resolved"):
        check_host("no-such-host.invalid", 993, nothing)
