"""The system mailer: notifications leave through the operator's SMTP relay, never a user's account."""

from __future__ import annotations

import logging
from email.utils import parseaddr
from typing import Literal

from email_service.core.config import Settings
from email_service.mail.mime.compose import ComposedMessage, ComposeRequest
from email_service.mail.mime.compose import build_message as compose
from email_service.mail.smtp.client import SmtpSettings, open_smtp
from email_service.notifications.render import RenderedMail

log = logging.getLogger(__name__)
IMPLICIT_TLS_PORT = 465


def relay_settings(settings: Settings) -> SmtpSettings | None:
    """SMTP_* as adapter settings; None when SMTP_HOST is empty (off). Port 465 means implicit TLS."""
    if not settings.smtp_host:
        return None
    security: Literal["ssl", "starttls", "none"]
    if settings.smtp_port == IMPLICIT_TLS_PORT:
        security = "ssl"
    else:
        security = "starttls" if settings.smtp_starttls else "none"
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=security,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        timeout=float(settings.smtp_timeout_seconds),
    )


def build_message(sender: str, recipient: str, mail: RenderedMail) -> ComposedMessage:
    """multipart/alternative (text first, HTML preferred), marked auto-generated so nobody auto-replies;
    built by the one MIME builder (mail/mime/compose)."""
    name, address = parseaddr(sender)
    request = ComposeRequest(
        from_address=address or sender,
        from_name=name,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        to=(recipient,),
        auto_submitted=True,
    )
    return compose(request)


class SystemMailer:
    """Sends one rendered notification per call; a logged no-op when no relay is configured."""

    def __init__(self, smtp: SmtpSettings | None, sender: str) -> None:
        self.smtp = smtp
        self.sender = sender

    @classmethod
    def from_settings(cls, settings: Settings) -> SystemMailer:
        return cls(relay_settings(settings), settings.smtp_from)

    @property
    def configured(self) -> bool:
        return self.smtp is not None

    def send(self, recipient: str, mail: RenderedMail) -> bool:
        """True when the relay accepted it; raises SmtpError subclasses when it did not."""
        if self.smtp is None:
            log.info("notification %r not sent: SMTP_HOST is not configured", mail.subject)
            return False
        message = build_message(self.sender, recipient, mail)
        with open_smtp(self.smtp) as session:
            session.send(message.envelope_from, list(message.recipients), message.raw)
        return True
