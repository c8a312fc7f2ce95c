"""SMTP submission adapter: aiosmtplib inside, a synchronous session facade for Celery tasks.

Errors leave it sorted for the retry policy (see smtp_types.translate_error).
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Iterator, Sequence
from contextlib import contextmanager

import aiosmtplib
from aiosmtplib import SMTPResponse

from email_service.core import net_policy
from email_service.mail.smtp.auth import bearer_auth
from email_service.mail.smtp.types import (
    SMTP_FAILURES,
    SendResult,
    SmtpAuthError,
    SmtpError,
    SmtpHostRefused,
    SmtpPermanentError,
    SmtpSettings,
    SmtpTlsError,
    SmtpTransientError,
    SmtpUncertainError,
    translate_error,
)
from email_service.mail.wire_text import has_line_break

__all__ = [
    "SMTP_FAILURES",
    "SendResult",
    "SmtpAuthError",
    "SmtpError",
    "SmtpHostRefused",
    "SmtpPermanentError",
    "SmtpSession",
    "SmtpSettings",
    "SmtpTlsError",
    "SmtpTransientError",
    "SmtpUncertainError",
    "check_login",
    "open_smtp",
    "translate_error",
]

_LONE_EOL = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """System CAs by default; only the pinned certificate when one is given; none if disabled."""
    if settings.pinned_cert_pem:
        return ssl.create_default_context(cadata=settings.pinned_cert_pem)
    context = ssl.create_default_context()
    if not settings.verify_cert:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _wire_body(raw: bytes) -> bytes:
    """CRLF line endings, dot-stuffing and the terminating '.' line (RFC 5321 4.5.2)."""
    body = _LONE_EOL.sub(b"\r\n", raw)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return _LEADING_DOT.sub(b"..", body) + b".\r\n"


class _AsyncSmtpConnection:
    """One logged-in aiosmtplib client that reconnects lazily after a dropped connection."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None

    async def connect(self) -> None:
        s = self._settings
        sock = await asyncio.to_thread(net_policy.connect, s.host, s.port, s.timeout, s.allowed_private_hosts)
        sock.setblocking(False)
        client = aiosmtplib.SMTP(
            hostname=s.host,  # with `sock`, the name only serves TLS (SNI and certificate check)
            sock=sock,
            timeout=s.timeout,
            use_tls=s.security == "ssl",
            start_tls=s.security == "starttls",
            tls_context=None if s.security == "none" else _tls_context(s),
        )
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:
                await client.ehlo()  # after STARTTLS the extension list must be fetched again
            if s.username and not client.supports_extension("auth"):
                raise SmtpAuthError("the server offers no AUTH here (plain connection without TLS?)")
            if s.username and s.access_token is not None:
                await bearer_auth(client, s.username, s.access_token, s.host, s.port)
            elif s.username:
                if has_line_break(s.username) or has_line_break(s.password or ""):
                    raise SmtpAuthError("username or password contains CR, LF or NUL; refused before sending")
                await client.login(s.username, s.password or "")
        except BaseException:
            client.close()
            sock.close()
            raise
        self._client = client

    async def send(self, envelope_from: str, recipients: Sequence[str], raw: bytes) -> SendResult:
        try:
            if self._client is None or not self._client.is_connected:
                await self.connect()
            assert self._client is not None
            return await self._transaction(self._client, envelope_from, recipients, raw)
        except SmtpError:
            raise
        except SMTP_FAILURES as exc:  # anything else is a bug and propagates as it is
            raise translate_error(exc) from exc

    async def _transaction(
        self, client: aiosmtplib.SMTP, envelope_from: str, recipients: Sequence[str], raw: bytes
    ) -> SendResult:
        """MAIL, RCPT*, DATA; after a refusal RSET keeps the connection usable for the next send."""
        if any(has_line_break(address) for address in (envelope_from, *recipients)):
            raise SmtpPermanentError("an envelope address contains CR, LF or NUL; nothing was sent")
        envelope = asyncio.timeout(self._settings.timeout)
        try:
            async with envelope:  # a per-read timeout alone lets a server trickle each reply
                await client.mail(envelope_from, options=self._mail_options(client, envelope_from, raw))
                accepted, refused = await self._recipients(client, recipients)
                await self._start_data(client)
            reply = await self._body(client, raw)
        except SmtpUncertainError:
            raise
        except TimeoutError as exc:
            client.close()
            if not envelope.expired():
                raise
            raise SmtpTransientError(
                f"the server took longer than {self._settings.timeout:g} s to accept the envelope; "
                "nothing was sent"
            ) from exc
        except (aiosmtplib.SMTPResponseException, SmtpError):
            await self._reset(client)
            raise
        except Exception:
            client.close()
            raise
        return SendResult(accepted, refused, f"{reply.code} {reply.message}")

    @staticmethod
    def _mail_options(client: aiosmtplib.SMTP, envelope_from: str, raw: bytes) -> list[str]:
        options = []
        if not raw.isascii() and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        if not envelope_from.isascii() and client.supports_extension("smtputf8"):
            options.append("SMTPUTF8")
        return options

    @staticmethod
    async def _recipients(
        client: aiosmtplib.SMTP, recipients: Sequence[str]
    ) -> tuple[tuple[str, ...], dict[str, tuple[int, str]]]:
        """RCPT each address; a 421 aborts, other refusals are collected per recipient."""
        accepted: list[str] = []
        refused: dict[str, tuple[int, str]] = {}
        for rcpt in recipients:
            try:
                await client.rcpt(rcpt)
            except aiosmtplib.SMTPRecipientRefused as exc:
                if exc.code == 421:
                    raise
                refused[rcpt] = (exc.code, exc.message)
            else:
                accepted.append(rcpt)
        if not accepted:
            transient = any(400 <= code < 500 for code, _ in refused.values())
            kind = SmtpTransientError if transient else SmtpPermanentError
            code, reply = next(iter(refused.values()), (0, ""))
            raise kind(f"all recipients refused: {code} {reply}", code, reply, refused)
        return tuple(accepted), refused

    @staticmethod
    async def _start_data(client: aiosmtplib.SMTP) -> None:
        """DATA apart from the body, so a drop after the body is told apart from one before it."""
        start = await client.execute_command(b"DATA")
        if start.code != 354:
            raise aiosmtplib.SMTPDataError(start.code, start.message)

    async def _body(self, client: aiosmtplib.SMTP, raw: bytes) -> SMTPResponse:
        """The body, then its reply within the timeout plus the body's upload time at the minimum rate."""
        protocol = client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("connection lost before the message body")
        protocol.write(_wire_body(raw))
        budget = self._settings.timeout + len(raw) / self._settings.min_bytes_per_second
        try:
            async with asyncio.timeout(budget):
                reply = await protocol.read_response(timeout=None)
        except (aiosmtplib.SMTPServerDisconnected, TimeoutError) as exc:
            client.close()
            reason = str(exc) or f"none within {budget:.0f} s"
            raise SmtpUncertainError(
                f"no reply after the message body ({reason}); it may have been delivered"
            ) from exc
        if reply.code != 250:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)
        return reply

    @staticmethod
    async def _reset(client: aiosmtplib.SMTP) -> None:
        """RSET so the connection can carry the next message; drop it if even that fails."""
        if not client.is_connected:
            return
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError):
            client.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit(timeout=min(self._settings.timeout, 5.0))
        except (aiosmtplib.SMTPException, OSError):
            client.close()


class SmtpSession:
    """Synchronous handle on one SMTP connection; obtain it from open_smtp()."""

    def __init__(self, runner: asyncio.Runner, connection: _AsyncSmtpConnection) -> None:
        self._runner = runner
        self._connection = connection

    def send(self, envelope_from: str, recipients: Sequence[str], raw: bytes) -> SendResult:
        """Send one message; raises SmtpError subclasses, returns partial refusals in the result."""
        return self._runner.run(self._connection.send(envelope_from, recipients, raw))


async def _within(operation: Awaitable[None], seconds: float) -> None:
    """Connect, TLS, EHLO and AUTH together within `seconds` (timeout is per read in aiosmtplib: a
    server trickling its greeting byte by byte would hold the sender for as long as it liked)."""
    try:
        async with asyncio.timeout(seconds):
            await operation
    except TimeoutError as exc:
        raise SmtpTransientError(f"connect and login took longer than {seconds:g} s; gave up") from exc


@contextmanager
def open_smtp(settings: SmtpSettings) -> Iterator[SmtpSession]:
    """Connect and log in once, yield a session for several sends, then QUIT."""
    with asyncio.Runner() as runner:
        connection = _AsyncSmtpConnection(settings)
        try:
            runner.run(_within(connection.connect(), settings.timeout))
        except SMTP_FAILURES as exc:
            raise translate_error(exc) from exc
        try:
            yield SmtpSession(runner, connection)
        finally:
            runner.run(connection.close())


def check_login(settings: SmtpSettings) -> None:
    """Prove the settings work (connect, TLS, AUTH) without sending anything."""
    with open_smtp(settings):
        pass
