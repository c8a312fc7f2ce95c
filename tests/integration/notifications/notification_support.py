"""Helpers for the notification tests: the system relay pointed at the SMTP test server, and running
the send_notification messages that tasks really published to the Redis broker."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import redis

from email_service.core.config import get_settings
from email_service.core.db import session_scope
from email_service.core.tenancy.tenant_model import Tenant
from email_service.core.tenancy.user_model import User
from email_service.notifications.tasks import send_notification
from tests.conftest import apply_environment
from tests.integration.core.queue_support import queue_list
from tests.integration.sending.send_support import parse
from tests.servers.smtp_fixtures import SMTP_USERS
from tests.servers.smtp_server import SmtpTestServer

TASK = "email_service.tasks.send_notification"
RELAY_USER = "alice@example.test"
SENDER = "email_service <notify@example.test>"


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set variables, re-read the settings, and restore both afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    apply_environment()
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
        apply_environment()


@contextmanager
def relay(smtp: SmtpTestServer, tmp_path: Path, port: int | None = None) -> Iterator[None]:
    """SMTP_* aimed at the test server: STARTTLS, AUTH as alice, its certificate trusted via SSL_CERT_FILE."""
    cert = tmp_path / "relay-ca.pem"
    cert.write_text(smtp.cert_pem)
    with environment(
        SMTP_HOST=smtp.host,
        SMTP_PORT=str(port or smtp.port),
        SMTP_USER=RELAY_USER,
        SMTP_PASSWORD=SMTP_USERS[RELAY_USER],
        SMTP_FROM=SENDER,
        SMTP_STARTTLS="true",
        SSL_CERT_FILE=str(cert),
    ):
        yield


@dataclass(frozen=True)
class Published:
    task_id: str
    headers: dict[str, Any]
    kwargs: dict[str, Any]


def broker() -> redis.Redis:
    return redis.Redis.from_url(get_settings().broker_url)


def take_notifications() -> list[Published]:
    """Pop every message from the send queue (oldest first) and keep the send_notification ones."""
    client = broker()
    found: list[Published] = []
    try:
        while (raw := client.rpop(queue_list("send"))) is not None:
            envelope = json.loads(raw)
            headers = envelope["headers"]
            if headers.get("task") != TASK:
                continue
            _args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
            found.append(Published(headers["id"], headers, kwargs))
    finally:
        client.close()
    return found


def run(published: Published) -> dict[str, Any]:
    """Execute one published notification in-process, as a worker would."""
    result: dict[str, Any] = send_notification.apply(kwargs=published.kwargs, task_id=published.task_id).get()
    return result


def run_all() -> list[dict[str, Any]]:
    return [run(p) for p in take_notifications()]


def mails_to(smtp: SmtpTestServer, address: str) -> list[EmailMessage]:
    return [parse(m.data) for m in smtp.messages if address in m.rcpt_tos]


def parts(mail: EmailMessage) -> tuple[str, str]:
    """(text, html) of a multipart/alternative notification."""
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def set_tenant_switches(tenant_id: str, switches: dict[str, Any] | bool) -> None:
    with session_scope(system=True) as session:
        tenant = session.get(Tenant, tenant_id)
        assert tenant is not None
        tenant.settings = {**(tenant.settings or {}), "notifications": switches}


def set_user_switches(tenant_id: str, user_id: str, switches: dict[str, Any]) -> None:
    with session_scope(tenant_id) as session:
        user = session.get(User, user_id)
        assert user is not None
        user.settings = {**(user.settings or {}), "notifications": switches}


def user_email(tenant_id: str, user_id: str) -> str:
    with session_scope(tenant_id) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.email
