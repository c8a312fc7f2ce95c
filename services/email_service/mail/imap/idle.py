"""An asyncio IMAP IDLE session (RFC 2177) for the watcher: connect, log in, EXAMINE, IDLE, DONE.

Hand-written on asyncio streams rather than aioimaplib: the watcher needs five commands, not a
client, and one process holds thousands of these. Each connection is a StreamReader whose buffer is
capped at MAX_LINE (a longer line is a protocol error, not a bigger buffer), literals in untagged
replies are skipped in bounded pieces up to MAX_LITERAL, and a command collects at most
MAX_UNTAGGED replies, so a hostile server cannot make a session buffer without bound.

The connection policy is the sync's: the host's addresses are vetted by core.net_policy before the
socket connects to one of them, TLS verifies the host name (or the pinned certificate), and login
refusals are told apart from throttling and transient refusals as in mail.imap.auth.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from imapclient import imap_utf7

from email_service.core import net_policy
from email_service.mail.imap.auth import refusal
from email_service.mail.imap.conn import make_ssl_context, pinned_ders
from email_service.mail.imap.throttle import is_throttled, suggested_seconds
from email_service.mail.imap.types import (
    ImapAuthError,
    ImapCommandError,
    ImapConnectionError,
    ImapHostRefused,
    ImapSettings,
    ImapThrottled,
    ImapTlsError,
)
from email_service.mail.sasl import NoBearerMechanism, choose_mechanism, oauthbearer_payload, xoauth2_payload
from email_service.mail.wire_text import has_line_break

MAX_LINE = 8192
MAX_LITERAL = 256 * 1024
MAX_UNTAGGED = 2000
LITERAL_CHUNK = 4096
CHANGE_KINDS = frozenset({"EXISTS", "EXPUNGE", "FETCH", "VANISHED"})
_NUMBERED = re.compile(rb"\* (\d{1,10}) ([A-Za-z]{1,16})")
_NAMED = re.compile(rb"\* ([A-Za-z]{1,16})")
_LITERAL = re.compile(rb"\{(\d{1,10})\+?\}\r?\n\Z")


class IdleProtocolError(ImapConnectionError):
    """The server broke the protocol (overlong line, huge literal, garbage): drop the connection."""


@dataclass(frozen=True)
class Untagged:
    """One untagged reply reduced to what the watcher acts on: its kind and its number, if any."""

    kind: str
    number: int | None = None

    @property
    def is_change(self) -> bool:
        return self.kind in CHANGE_KINDS


def parse_untagged(line: bytes) -> Untagged | None:
    """`* 3 EXISTS` → Untagged("EXISTS", 3); `* VANISHED 1:2` → Untagged("VANISHED"); anything that is
    not an untagged reply (a tag, a continuation, garbage) → None. Never raises."""
    numbered = _NUMBERED.match(line)
    if numbered is not None:
        return Untagged(numbered.group(2).upper().decode("ascii"), int(numbered.group(1)))
    named = _NAMED.match(line)
    if named is not None:
        return Untagged(named.group(1).upper().decode("ascii"))
    return None


def literal_size(line: bytes) -> int | None:
    """The size of the literal that a line announces at its end (`{12}\\r\\n`), if any."""
    found = _LITERAL.search(line)
    return int(found.group(1)) if found else None


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    """One reply's first line (up to MAX_LINE); literals and their continuation lines are skipped."""
    first = await _read_line(reader)
    line, total = first, 0
    while (size := literal_size(line)) is not None:
        total += size
        if total > MAX_LITERAL:
            raise IdleProtocolError(f"server sent a literal over {MAX_LITERAL} bytes in an untagged reply")
        left = size
        while left:
            left -= len(await _read_exactly(reader, min(left, LITERAL_CHUNK)))
        line = await _read_line(reader)
    return first


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as exc:
        raise IdleProtocolError(f"server sent a line over {MAX_LINE} bytes") from exc
    except asyncio.IncompleteReadError as exc:
        raise ImapConnectionError("server closed the connection") from exc
    except ValueError as exc:  # the limit is exceeded with the separator found past it
        raise IdleProtocolError(f"server sent a line over {MAX_LINE} bytes") from exc


async def _read_exactly(reader: asyncio.StreamReader, size: int) -> bytes:
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError as exc:
        raise ImapConnectionError("server closed the connection inside a literal") from exc


def quote_mailbox(name: str) -> bytes:
    """A mailbox name as a quoted string (modified UTF-7 for non-ASCII), refused when it has a line break."""
    if has_line_break(name):
        raise ImapCommandError("mailbox name contains CR, LF or NUL")
    raw = imap_utf7.encode(name)
    return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


class IdleSession:
    """One logged-in connection with one mailbox selected read-only (EXAMINE), idling on it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self._reader = reader
        self._writer = writer
        self._timeout = timeout
        self._counter = 0
        self.capabilities: frozenset[str] = frozenset()

    @classmethod
    async def open(cls, settings: ImapSettings) -> IdleSession:
        """Connected, (STARTTLS,) logged in; all within settings.timeout."""
        try:
            async with asyncio.timeout(settings.timeout):
                session = await _connect(settings)
                try:
                    await session._start(settings)
                except BaseException:
                    session.abort()
                    raise
                return session
        except TimeoutError as exc:
            raise ImapConnectionError(f"connect and login took longer than {settings.timeout:g} s") from exc

    async def _start(self, settings: ImapSettings) -> None:
        greeting = await read_reply(self._reader)
        if not greeting.startswith(b"* OK"):
            raise ImapConnectionError(f"unexpected greeting: {greeting[:100]!r}")
        if settings.security == "starttls":
            await self.command(b"STARTTLS")
            ctx = make_ssl_context(settings)
            await self._writer.start_tls(ctx, server_hostname=settings.host)
        if settings.pinned_cert_pem and settings.security != "none":
            self._check_pin(settings.pinned_cert_pem)
        await self._load_capabilities()
        await self._login(settings)

    def _check_pin(self, pinned_pem: str) -> None:
        ssl_object = self._writer.get_extra_info("ssl_object")
        peer = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if peer not in pinned_ders(pinned_pem):
            raise ImapTlsError("server certificate does not match the pinned certificate")

    async def _load_capabilities(self) -> None:
        replies = await self.command(b"CAPABILITY")
        words: set[str] = set()
        for line in replies:
            if line.upper().startswith(b"* CAPABILITY"):
                words.update(w.upper() for w in line[12:].decode("ascii", "replace").split())
        self.capabilities = frozenset(words)

    async def _login(self, settings: ImapSettings) -> None:
        user = settings.username
        if settings.access_token is not None:
            advertised = [c[5:] for c in self.capabilities if c.startswith("AUTH=")]
            try:
                mechanism = choose_mechanism(advertised)
                payload = (
                    oauthbearer_payload(user, settings.access_token)
                    if mechanism == "OAUTHBEARER"
                    else xoauth2_payload(user, settings.access_token)
                )
            except (ValueError, NoBearerMechanism) as exc:
                raise ImapAuthError(str(exc)) from exc
            await self._authenticate(mechanism.encode(), payload)
            return
        if has_line_break(user) or has_line_break(settings.password):
            raise ImapAuthError("username or password contains CR, LF or NUL; refused before sending")
        if not (user + settings.password).isascii():  # as mail.imap.auth.password_login does
            token = b"\0" + user.encode() + b"\0" + settings.password.encode()
            await self._authenticate(b"PLAIN", token)
            return
        try:
            await self.command(b"LOGIN " + _quoted(user) + b" " + _quoted(settings.password))
        except ImapCommandError as exc:
            raise refusal(str(exc).removeprefix("LOGIN failed: ")) from None

    async def _authenticate(self, mechanism: bytes, payload: bytes) -> None:
        """AUTHENTICATE with the initial response after the continuation; an error challenge is
        answered with an empty line (RFC 4954 style) so the server sends its tagged NO."""
        tag = self._next_tag()
        self._writer.write(tag + b" AUTHENTICATE " + mechanism + b"\r\n")
        await self._writer.drain()
        sent = False
        while True:
            line = await read_reply(self._reader)
            if line.startswith(b"+"):
                self._writer.write((b"" if sent else base64.b64encode(payload)) + b"\r\n")
                await self._writer.drain()
                sent = True
                continue
            if line.startswith(tag + b" "):
                status = line[len(tag) + 1 :]
                if status.upper().startswith(b"OK"):
                    return
                raise refusal(status.decode("utf-8", "replace").strip())
            if line.startswith(b"* BYE"):
                raise refusal(line.decode("utf-8", "replace").strip())

    def _next_tag(self) -> bytes:
        self._counter += 1
        return b"W%d" % self._counter

    async def command(self, command: bytes) -> list[bytes]:
        """Run a command; its untagged replies (at most MAX_UNTAGGED first lines); NO/BAD raises."""
        tag = self._next_tag()
        self._writer.write(tag + b" " + command + b"\r\n")
        await self._writer.drain()
        replies: list[bytes] = []
        async with asyncio.timeout(self._timeout):
            while True:
                line = await read_reply(self._reader)
                if line.startswith(tag + b" "):
                    _check_status(command, line[len(tag) + 1 :])
                    return replies
                if line.startswith(b"* BYE"):
                    raise ImapConnectionError(f"server ended the session: {line[:200]!r}")
                if len(replies) >= MAX_UNTAGGED:
                    raise IdleProtocolError(f"over {MAX_UNTAGGED} untagged replies to one command")
                replies.append(line)

    async def examine(self, mailbox: str) -> None:
        """Select the mailbox read-only: IDLE needs a selected mailbox, the watcher changes nothing."""
        if "IDLE" not in self.capabilities:
            raise ImapCommandError("the server does not support IDLE")
        await self.command(b"EXAMINE " + quote_mailbox(mailbox))

    async def idle(self, on_change: Callable[[Untagged], None], refresh_seconds: float) -> None:
        """IDLE until the connection ends (raises ImapConnectionError), re-issued every
        refresh_seconds; each EXISTS / EXPUNGE / FETCH / VANISHED is handed to on_change."""
        loop = asyncio.get_running_loop()
        while True:
            tag = self._next_tag()
            self._writer.write(tag + b" IDLE\r\n")
            await self._writer.drain()
            async with asyncio.timeout(self._timeout):
                while not (line := await read_reply(self._reader)).startswith(b"+"):
                    self._dispatch(tag, line, on_change)
            until = loop.time() + refresh_seconds
            with suppress(TimeoutError):
                async with asyncio.timeout_at(until):
                    while True:
                        self._dispatch(tag, await read_reply(self._reader), on_change)
            self._writer.write(b"DONE\r\n")
            await self._writer.drain()
            async with asyncio.timeout(self._timeout):
                while True:
                    line = await read_reply(self._reader)
                    if line.startswith(tag + b" "):
                        _check_status(b"IDLE", line[len(tag) + 1 :])
                        break
                    self._dispatch(tag, line, on_change)

    @staticmethod
    def _dispatch(tag: bytes, line: bytes, on_change: Callable[[Untagged], None]) -> None:
        if line.startswith(tag + b" "):  # the server ended the IDLE itself
            _check_status(b"IDLE", line[len(tag) + 1 :])
            raise ImapConnectionError("server ended IDLE")
        reply = parse_untagged(line)
        if reply is None:
            return
        if reply.kind == "BYE":
            raise ImapConnectionError(f"server ended the session: {line[:200]!r}")
        if reply.is_change:
            on_change(reply)

    async def close(self) -> None:
        """LOGOUT, briefly; the socket is closed whatever happens."""
        with suppress(Exception):
            async with asyncio.timeout(2):
                self._writer.write(self._next_tag() + b" LOGOUT\r\n")
                await self._writer.drain()
        self.abort()

    def abort(self) -> None:
        self._writer.transport.abort()


def _quoted(text: str) -> bytes:
    return b'"' + text.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _check_status(command: bytes, status: bytes) -> None:
    if status.upper().startswith(b"OK"):
        return
    text = status.decode("utf-8", "replace").strip()
    if is_throttled(text):
        raise ImapThrottled(f"throttled: {text}", suggested_seconds(text))
    verb = command.split(b" ", 1)[0].decode("ascii", "replace")
    raise ImapCommandError(f"{verb} failed: {text[:200]}")


async def _connect(settings: ImapSettings) -> IdleSession:
    """A stream to a vetted address of the host (implicit TLS when security is "ssl")."""
    loop = asyncio.get_running_loop()
    host = settings.host.strip("[]")
    try:
        infos = await loop.getaddrinfo(host, settings.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ImapConnectionError(f"connect to {settings.host}:{settings.port}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))
    if settings.allowed_private_hosts is not None:
        try:
            allow = net_policy.AllowList(tuple(settings.allowed_private_hosts))
            net_policy.vet(settings.host, (ipaddress.ip_address(a) for a in addresses), allow)
        except net_policy.HostNotAllowed as exc:
            raise ImapHostRefused(f"imap_host {exc}") from None
    tls: ssl.SSLContext | None = make_ssl_context(settings) if settings.security == "ssl" else None
    last: Exception | None = None
    for address in addresses:
        try:
            reader, writer = await asyncio.open_connection(
                address,
                settings.port,
                ssl=tls,
                server_hostname=settings.host if tls else None,
                limit=MAX_LINE,
            )
        except ssl.SSLCertVerificationError as exc:
            raise ImapTlsError(f"TLS certificate refused ({exc.verify_message})") from exc
        except OSError as exc:
            last = exc
            continue
        return IdleSession(reader, writer, float(settings.command_timeout))
    raise ImapConnectionError(f"connect to {settings.host}:{settings.port}: {last}")
