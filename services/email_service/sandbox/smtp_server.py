"""The sandbox SMTP server: aiosmtpd with AUTH PLAIN/LOGIN over plain TCP, delivering to the demo INBOX.

Every accepted message, whatever its recipients, lands in the demo user's INBOX (a catch-all like
MailHog), so "send to myself" and "send to anyone" both show up after the next sync.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import warnings
from contextlib import AsyncExitStack
from email.utils import formatdate
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from email_service.sandbox.mailbox import deliver
from email_service.sandbox.settings import SandboxSettings

log = logging.getLogger(__name__)
HOSTNAME = "sandbox.local"


class DemoAuthenticator:
    """Accepts the demo address (or its local part) with the demo password, nothing else."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        names = {self.settings.address, self.settings.address.split("@", 1)[0]}
        ok = login in names and hmac.compare_digest(data.password, self.settings.password.encode())
        return AuthResult(success=ok, handled=False)


class DeliverToInbox:
    """aiosmtpd handler: adds trace headers and APPENDs the message to the demo INBOX."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""  # as received: CRLF, dot-unstuffed
        trace = (
            f"Return-Path: <{envelope.mail_from}>\r\n"
            f"X-Original-To: {', '.join(envelope.rcpt_tos)}\r\n"
            f"Received: from {session.host_name} by {HOSTNAME} with ESMTPA; {formatdate(localtime=True)}\r\n"
        ).encode()
        try:
            await asyncio.to_thread(deliver, self.settings, trace + content)
        except Exception:
            log.exception("sandbox delivery to IMAP failed")
            return "451 4.3.0 Delivery to the sandbox mailbox failed, try again"
        log.info("delivered mail from %s to %s", envelope.mail_from, envelope.rcpt_tos)
        return "250 2.0.0 Delivered to the sandbox INBOX"


async def start_smtp(settings: SandboxSettings, stack: AsyncExitStack) -> None:
    """Listen on settings.host:smtp_port until the stack closes."""
    # Plain-text AUTH is the point of this loopback sandbox; say it once in describe(), not per connection.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").addFilter(
        lambda record: "auth_require_tls == False" not in record.getMessage()
    )
    handler = DeliverToInbox(settings)
    authenticator = DemoAuthenticator(settings)

    def factory() -> SMTP:
        return SMTP(
            handler,
            hostname=HOSTNAME,
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=False,  # loopback sandbox only: lets clients log in without TLS
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host=settings.host, port=settings.smtp_port)
    stack.push_async_callback(server.wait_closed)
    stack.callback(server.close)
