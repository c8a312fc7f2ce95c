"""The pure parts of autoconfig: SRV choice, MX matching, address parsing, the table, the setting."""

from __future__ import annotations

import pytest

from email_service.accounts.autoconfig.dns import Lookup, SrvRecord
from email_service.accounts.autoconfig.lookup import email_domain, mx_hosts, pick_srv
from email_service.accounts.autoconfig.providers import PROVIDERS, by_domain, by_mx
from email_service.core.config import ConfigError, load_settings
from email_service.core.errors import ValidationFailed


def test_srv_lowest_priority_then_heaviest_weight() -> None:
    records = (
        SrvRecord(20, 100, 993, "backup.example."),
        SrvRecord(10, 1, 993, "light.example."),
        SrvRecord(10, 5, 993, "heavy.example."),
    )
    chosen = pick_srv(records)
    assert chosen is not None and chosen.target == "heavy.example."


def test_srv_dot_target_and_port_zero_are_no_service() -> None:
    assert pick_srv((SrvRecord(0, 0, 0, "."),)) is None
    assert pick_srv((SrvRecord(0, 0, 993, "."),)) is None
    assert pick_srv((SrvRecord(0, 0, 0, "imap.example."),)) is None
    chosen = pick_srv((SrvRecord(0, 0, 993, "."), SrvRecord(5, 0, 993, "imap.example.")))
    assert chosen is not None and chosen.target == "imap.example."


def test_srv_targets_that_are_not_host_names_are_skipped() -> None:
    records = (
        SrvRecord(0, 0, 993, "bad\\032name.example."),
        SrvRecord(1, 0, 993, "under_score.example."),
        SrvRecord(2, 0, 993, "localhost."),
        SrvRecord(3, 0, 993, "imap.example."),
    )
    chosen = pick_srv(records)
    assert chosen is not None and chosen.target == "imap.example."


def test_mx_by_preference_and_suffix() -> None:
    answer = Lookup("answer", mx=((20, "mx.other.example."), (5, "ASPMX.L.GOOGLE.COM.")))
    hosts = mx_hosts(answer)
    assert hosts == ["ASPMX.L.GOOGLE.COM.", "mx.other.example."]
    google = by_mx(hosts)
    assert google is not None and google.name == "Google Workspace"
    m365 = by_mx(["contoso-com.mail.protection.outlook.com."])
    assert m365 is not None and m365.name == "Microsoft 365"
    outlook = by_mx(["eur.olc.protection.outlook.com."])
    assert outlook is not None and outlook.name == "Outlook.com"
    # A suffix matches whole labels only.
    assert by_mx(["evilgoogle.com.", "google.com.evil.example."]) is None


def test_email_domain() -> None:
    assert email_domain("Me@Example.COM.") == "example.com"
    assert email_domain("me@bücher.example") == "xn--bcher-kva.example"
    for bad in ("me", "me@", "@x.com", "a@b@c.com", "me@localhost", "me@x..com", "me@-x.com", 5, None):
        with pytest.raises(ValidationFailed):
            email_domain(bad)


def test_table_is_consistent() -> None:
    gmail = by_domain("gmail.com")
    assert gmail is not None and gmail.imap.host == "imap.gmail.com"
    domains = [d for p in PROVIDERS for d in p.domains]
    assert len(domains) == len(set(domains))
    for provider in PROVIDERS:
        assert provider.auth_types and provider.imap.port and provider.smtp.port
        assert provider.domains or provider.mx_suffixes


def test_nameservers_setting() -> None:
    dev = {"APP_ENV": "development"}
    assert load_settings(dev).autoconfig_nameservers == ()
    value = "127.0.0.1:5353, [::1]:53,10.0.0.1"
    assert load_settings({**dev, "AUTOCONFIG_NAMESERVERS": value}).autoconfig_nameservers == (
        "127.0.0.1:5353",
        "[::1]:53",
        "10.0.0.1",
    )
    for bad in ("dns.example", "127.0.0.1:0", "127.0.0.1:x", "[::1", "1.2.3.4:70000"):
        with pytest.raises(ConfigError, match="AUTOCONFIG_NAMESERVERS"):
            load_settings({**dev, "AUTOCONFIG_NAMESERVERS": bad})
