"""The shipped provider table: hosts, ports, security, auth types and known quirks, as data.

Quirks are recorded for the sync and send code to consult later; nothing here acts on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Security = Literal["ssl", "starttls", "none"]
AuthType = Literal["password", "oauth2"]


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    security: Security


@dataclass(frozen=True)
class Provider:
    name: str
    imap: Endpoint
    smtp: Endpoint
    pop3: Endpoint | None
    auth_types: tuple[AuthType, ...]
    # True: the provider files what SMTP submits in Sent itself, so the client must not APPEND a copy.
    provider_saves_sent: bool
    domains: tuple[str, ...] = ()
    # MX host suffixes that identify a custom domain hosted by this provider.
    mx_suffixes: tuple[str, ...] = ()
    quirks: tuple[str, ...] = ()
    # IMAP connections this service opens at once to one mailbox (accounts/connection_cap.py): kept
    # below the provider's own per-account limit, leaving room for the user's other clients.
    # None: IMAP_MAX_CONNECTIONS.
    max_connections: int | None = None
    # IDLE is ended (DONE) and re-issued this often: RFC 2177 servers may drop an IDLE after 30 min.
    idle_refresh_seconds: int = 25 * 60


_GMAIL_QUIRKS = (
    "X-GM-EXT-1: X-GM-MSGID, X-GM-THRID and X-GM-LABELS",
    "labels as folders: only [Gmail]/All Mail, Spam and Trash are synced (one row per message), with its"
    " labels from X-GM-LABELS; a permanent delete goes through Trash",
    "SMTP submissions are filed in Sent by the server: no APPEND to Sent",
    "password login needs an app password (2-step verification); OAuth2 preferred",
    "IMAP bandwidth and connection limits (about 15 connections per account)",
)
_MICROSOFT_QUIRKS = (
    "no CONDSTORE/QRESYNC: flag changes need a full flag scan",
    "throttling: NO/BAD replies such as 'Request is throttled' and dropped connections under load",
    "basic authentication retired for IMAP/POP3; SMTP AUTH may be disabled per mailbox: OAuth2",
    "SMTP submissions are saved to Sent Items by the server: no APPEND to Sent",
)


def _ssl(host: str, port: int) -> Endpoint:
    return Endpoint(host, port, "ssl")


def _starttls(host: str, port: int = 587) -> Endpoint:
    return Endpoint(host, port, "starttls")


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        name="Gmail",
        domains=("gmail.com", "googlemail.com"),
        imap=_ssl("imap.gmail.com", 993),
        smtp=_ssl("smtp.gmail.com", 465),
        pop3=_ssl("pop.gmail.com", 995),
        auth_types=("oauth2", "password"),
        provider_saves_sent=True,
        quirks=_GMAIL_QUIRKS,
        max_connections=10,  # Google allows 15 simultaneous IMAP connections per account
    ),
    Provider(
        name="Google Workspace",
        mx_suffixes=("google.com", "googlemail.com"),
        imap=_ssl("imap.gmail.com", 993),
        smtp=_ssl("smtp.gmail.com", 465),
        pop3=_ssl("pop.gmail.com", 995),
        auth_types=("oauth2", "password"),
        provider_saves_sent=True,
        quirks=(*_GMAIL_QUIRKS, "found by MX: the domain's administrator may have turned IMAP off"),
        max_connections=10,
    ),
    Provider(
        name="Outlook.com",
        domains=("outlook.com", "hotmail.com", "live.com", "msn.com", "hotmail.co.uk", "outlook.de"),
        mx_suffixes=("olc.protection.outlook.com",),
        imap=_ssl("outlook.office365.com", 993),
        smtp=_starttls("smtp-mail.outlook.com"),
        pop3=_ssl("outlook.office365.com", 995),
        auth_types=("oauth2",),
        provider_saves_sent=True,
        quirks=_MICROSOFT_QUIRKS,
        max_connections=8,
    ),
    Provider(
        name="Microsoft 365",
        mx_suffixes=("mail.protection.outlook.com",),
        imap=_ssl("outlook.office365.com", 993),
        smtp=_starttls("smtp.office365.com"),
        pop3=_ssl("outlook.office365.com", 995),
        auth_types=("oauth2",),
        provider_saves_sent=True,
        quirks=(*_MICROSOFT_QUIRKS, "found by MX: IMAP/POP3/SMTP AUTH can be disabled by the tenant"),
        max_connections=8,
    ),
    Provider(
        name="Yahoo",
        domains=("yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de"),
        mx_suffixes=("yahoodns.net",),
        imap=_ssl("imap.mail.yahoo.com", 993),
        smtp=_ssl("smtp.mail.yahoo.com", 465),
        pop3=_ssl("pop.mail.yahoo.com", 995),
        auth_types=("oauth2", "password"),
        provider_saves_sent=False,
        quirks=("password login needs an app password", "MX also serves AOL and Yahoo small business"),
        idle_refresh_seconds=3 * 60,  # Yahoo drops an IDLE that stays silent for a few minutes
    ),
    Provider(
        name="iCloud",
        domains=("icloud.com", "me.com", "mac.com"),
        mx_suffixes=("mail.icloud.com",),
        imap=_ssl("imap.mail.me.com", 993),
        smtp=_starttls("smtp.mail.me.com"),
        pop3=None,
        auth_types=("password",),
        provider_saves_sent=False,
        quirks=("app-specific password required", "no POP3", "older accounts log in with the local part"),
    ),
    Provider(
        name="Fastmail",
        domains=("fastmail.com", "fastmail.fm", "fastmail.net", "messagingengine.com"),
        mx_suffixes=("messagingengine.com",),
        imap=_ssl("imap.fastmail.com", 993),
        smtp=_ssl("smtp.fastmail.com", 465),
        pop3=_ssl("pop.fastmail.com", 995),
        auth_types=("password", "oauth2"),
        provider_saves_sent=False,
        quirks=("app password required for IMAP/SMTP", "CONDSTORE/QRESYNC supported"),
    ),
    Provider(
        name="Zoho Mail",
        domains=("zoho.com", "zohomail.com"),
        mx_suffixes=("zoho.com",),
        imap=_ssl("imap.zoho.com", 993),
        smtp=_ssl("smtp.zoho.com", 465),
        pop3=_ssl("pop.zoho.com", 995),
        auth_types=("password", "oauth2"),
        provider_saves_sent=False,
        quirks=(
            "IMAP access must be enabled in the web settings",
            "regional data centres use other hosts (imap.zoho.eu, imap.zoho.in, ...)",
        ),
    ),
    Provider(
        name="GMX",
        domains=("gmx.net", "gmx.de", "gmx.at", "gmx.ch"),
        imap=_ssl("imap.gmx.net", 993),
        smtp=_ssl("mail.gmx.net", 465),
        pop3=_ssl("pop.gmx.net", 995),
        auth_types=("password",),
        provider_saves_sent=False,
        quirks=("IMAP/POP3 must be enabled in the web settings",),
    ),
    Provider(
        name="GMX.com",
        domains=("gmx.com", "gmx.us", "gmx.co.uk"),
        imap=_ssl("imap.gmx.com", 993),
        smtp=_ssl("mail.gmx.com", 465),
        pop3=_ssl("pop.gmx.com", 995),
        auth_types=("password",),
        provider_saves_sent=False,
        quirks=("IMAP/POP3 must be enabled in the web settings",),
    ),
    Provider(
        name="WEB.DE",
        domains=("web.de",),
        imap=_ssl("imap.web.de", 993),
        smtp=_starttls("smtp.web.de"),
        pop3=_ssl("pop3.web.de", 995),
        auth_types=("password",),
        provider_saves_sent=False,
        quirks=("IMAP/POP3 must be enabled in the web settings",),
    ),
    Provider(
        name="AOL",
        domains=("aol.com", "aim.com"),
        imap=_ssl("imap.aol.com", 993),
        smtp=_ssl("smtp.aol.com", 465),
        pop3=_ssl("pop.aol.com", 995),
        auth_types=("oauth2", "password"),
        provider_saves_sent=False,
        quirks=("password login needs an app password",),
    ),
    Provider(
        name="Yandex",
        domains=("yandex.ru", "yandex.com", "ya.ru", "yandex.by", "yandex.kz", "yandex.ua"),
        mx_suffixes=("yandex.net",),
        imap=_ssl("imap.yandex.com", 993),
        smtp=_ssl("smtp.yandex.com", 465),
        pop3=_ssl("pop.yandex.com", 995),
        auth_types=("password", "oauth2"),
        provider_saves_sent=False,
        quirks=("IMAP must be enabled in the web settings", "app password required for mail clients"),
    ),
    Provider(
        name="Mail.ru",
        domains=("mail.ru", "inbox.ru", "list.ru", "bk.ru"),
        imap=_ssl("imap.mail.ru", 993),
        smtp=_ssl("smtp.mail.ru", 465),
        pop3=_ssl("pop.mail.ru", 995),
        auth_types=("password", "oauth2"),
        provider_saves_sent=False,
        quirks=("app password required for mail clients",),
    ),
)

_BY_DOMAIN = {domain: p for p in PROVIDERS for domain in p.domains}
_BY_IMAP_HOST = {p.imap.host: p for p in reversed(PROVIDERS)}  # the first provider of a host wins


def by_imap_host(host: str) -> Provider | None:
    """The provider whose IMAP server this is (Gmail and Workspace share one: the same rules)."""
    return _BY_IMAP_HOST.get(host.strip().lower().rstrip("."))


def by_domain(domain: str) -> Provider | None:
    """The provider of an address's domain (lower-case ASCII), if the table names it."""
    return _BY_DOMAIN.get(domain)


def by_mx(hosts: list[str]) -> Provider | None:
    """The provider whose MX suffix matches the first (most preferred) host that any provider claims."""
    for host in hosts:
        name = host.lower().rstrip(".")
        for provider in PROVIDERS:
            if any(name == s or name.endswith("." + s) for s in provider.mx_suffixes):
                return provider
    return None


DEFAULT_IDLE_REFRESH_SECONDS = 25 * 60
_IDLE_BY_IMAP_HOST = {p.imap.host: p.idle_refresh_seconds for p in PROVIDERS}


def idle_refresh_seconds(imap_host: str) -> int:
    """How often the watcher re-issues IDLE on this IMAP host (the provider's, else ≤ 25 min)."""
    return _IDLE_BY_IMAP_HOST.get(imap_host.lower().rstrip("."), DEFAULT_IDLE_REFRESH_SECONDS)
