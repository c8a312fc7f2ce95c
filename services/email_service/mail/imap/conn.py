"""Connection plumbing for the IMAP adapter: TLS, login, error mapping and a raw command channel.

The raw channel writes commands on imapclient's imaplib connection and reads the replies itself
(imap_wire), which is ~5x faster than imapclient's parser for large FETCH responses. It relies on
Python <= 3.13 imaplib keeping `file` (a buffered reader) as its only read buffer.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import BinaryIO, Protocol, cast

from imapclient import IMAPClient, SocketTimeout

from email_service.core import net_policy
from email_service.core.deadline import Deadline, deadline
from email_service.mail.imap.auth import bearer_login, password_login
from email_service.mail.imap.throttle import is_throttled, suggested_seconds
from email_service.mail.imap.types import (
    ImapCommandError,
    ImapConnectionError,
    ImapError,
    ImapHostRefused,
    ImapSettings,
    ImapThrottled,
    ImapTlsError,
)
from email_service.mail.imap.wire import Read, ReadLine, Response, read_response
from email_service.mail.wire_text import require_single_line


class TlsTrust(Protocol):
    """What a client TLS context is built from (IMAP's and POP3's settings both have it)."""

    @property
    def pinned_cert_pem(self) -> str | None: ...
    @property
    def verify_cert(self) -> bool: ...


def make_ssl_context(settings: TlsTrust) -> ssl.SSLContext:
    """Verifying context by default; a pinned PEM is the only trust anchor, with hostname check off."""
    if settings.pinned_cert_pem:
        ctx = ssl.create_default_context(cadata=settings.pinned_cert_pem)
        ctx.check_hostname = False
        return ctx
    ctx = ssl.create_default_context()
    if not settings.verify_cert:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def pinned_ders(pinned_pem: str) -> set[bytes]:
    """DER of every certificate in the pin (one account may pin its IMAP and its SMTP certificate)."""
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pinned_pem, re.S)
    return {ssl.PEM_cert_to_DER_cert(block) for block in blocks}


def check_pin(client: IMAPClient, pinned_pem: str) -> None:
    """Trust exactly the pinned certificate, not anything it might have signed."""
    sock = client.socket()
    peer = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
    if peer not in pinned_ders(pinned_pem):
        raise ImapTlsError("server certificate does not match the pinned certificate")


class _PolicyIMAP4(imaplib.IMAP4):
    """imaplib connection whose socket comes from net_policy.connect (the vetted address)."""

    def __init__(self, settings: ImapSettings, tls: ssl.SSLContext | None) -> None:
        self._settings = settings
        self._tls = tls
        super().__init__(settings.host, settings.port, timeout=settings.timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        s = self._settings
        sock = net_policy.connect(s.host, s.port, s.timeout, s.allowed_private_hosts)
        if self._tls is None:
            return sock
        try:  # the name, not the IP, is what the certificate is checked against (and sent as SNI)
            return self._tls.wrap_socket(sock, server_hostname=s.host)
        except BaseException:
            sock.close()
            raise


class _PolicyIMAPClient(IMAPClient):
    """IMAPClient that connects through the outbound policy; TLS still verifies the host name."""

    def __init__(self, settings: ImapSettings, ctx: ssl.SSLContext | None) -> None:
        self._settings = settings
        super().__init__(
            settings.host,
            settings.port,
            ssl=settings.security == "ssl",
            ssl_context=ctx,
            timeout=SocketTimeout(connect=settings.timeout, read=settings.timeout),
        )

    def _create_IMAP4(self) -> imaplib.IMAP4:  # imapclient's hook
        return _PolicyIMAP4(self._settings, self.ssl_context if self.ssl else None)


def open_client(settings: ImapSettings) -> IMAPClient:
    """Connect (implicit TLS, STARTTLS or plain) to a vetted address and log in, all of it within
    settings.timeout: a server trickling its greeting one byte at a time never trips a per-read
    timeout, the whole-operation deadline does (the socket is shut down when it passes)."""
    ctx = None if settings.security == "none" else make_ssl_context(settings)
    with deadline(settings.timeout) as budget:
        try:
            with guard(f"connect to {settings.host}:{settings.port}"):
                client = _PolicyIMAPClient(settings, ctx)
        except ImapConnectionError as exc:
            raise _timed_out(budget, exc) from exc
        try:
            with guard("STARTTLS/login"):
                if settings.security == "starttls":
                    client.starttls(ctx)
                if settings.pinned_cert_pem and settings.security != "none":
                    check_pin(client, settings.pinned_cert_pem)
                if settings.access_token is not None:
                    bearer_login(client, settings.username, settings.access_token)
                else:
                    password_login(client._imap, settings.username, settings.password)
        except BaseException as exc:
            with suppress(Exception):
                client.shutdown()
            if isinstance(exc, ImapConnectionError):
                raise _timed_out(budget, exc) from exc
            raise
    return client


def _timed_out(budget: Deadline, exc: ImapConnectionError) -> ImapConnectionError:
    """The error as raised, or, when the deadline cut it short, one that says so."""
    if budget.expired:
        return ImapConnectionError(f"connect and login took longer than {budget.seconds:g} s; gave up")
    return exc


@contextmanager
def guard(what: str) -> Iterator[None]:
    """Map imapclient/imaplib/socket errors to the adapter's ImapError family."""
    try:
        yield
    except ImapError:
        raise
    except net_policy.HostNotAllowed as exc:
        raise ImapHostRefused(f"imap_host {exc}") from None
    except ssl.SSLCertVerificationError as exc:
        hint = "" if "pinned" in what else "; pin the certificate on the account to trust it"
        raise ImapTlsError(f"{what}: TLS certificate refused ({exc.verify_message}){hint}") from exc
    except (imaplib.IMAP4.abort, imaplib.IMAP4.error) as exc:
        if is_throttled(str(exc)):
            raise ImapThrottled(f"{what}: throttled: {exc}", suggested_seconds(str(exc))) from exc
        if isinstance(exc, imaplib.IMAP4.abort):
            raise ImapConnectionError(f"{what}: {exc}") from exc
        raise ImapCommandError(f"{what}: {exc}") from exc
    except (OSError, EOFError) as exc:
        raise ImapConnectionError(f"{what}: {exc}") from exc
    except ValueError as exc:  # imap_wire could not make sense of a reply (it was drained first)
        raise ImapCommandError(f"{what}: unexpected server response: {exc}") from exc


READ_CHUNK = 64 * 1024


def _chunked(step: Read, limit: int, progress: Callable[[int], None], line: bool) -> bytes:
    """Up to `limit` bytes through `step` (readline or read) in READ_CHUNK pieces, each reported."""
    parts: list[bytes] = []
    left = limit
    while left > 0:
        part = step(min(left, READ_CHUNK))
        if not part:
            break
        progress(len(part))
        parts.append(part)
        left -= len(part)
        if line and part.endswith(b"\n"):
            break
    return parts[0] if len(parts) == 1 else b"".join(parts)


class RawChannel:
    """Sends one command at a time on the shared imaplib connection and streams its responses."""

    def __init__(self, imap: imaplib.IMAP4) -> None:
        self._imap = imap
        self._counter = 0
        self.last_status = b""
        # Told each chunk's size while a command's time budget runs (see SessionBase._op).
        self.progress: Callable[[int], None] | None = None

    def stream(self, command: bytes) -> Generator[Response, None, None]:
        """Yield untagged responses of `command`; raise ImapCommandError on NO/BAD.

        Closing the iterator early drains the rest so the connection stays usable.
        """
        require_single_line(command, "IMAP command")
        self._counter += 1
        tag = b"EZ%d " % self._counter
        self._imap.send(tag + command + b"\r\n")
        readline, read = self._readers()
        done = False
        try:
            while True:
                resp = read_response(readline, read)
                head = resp.head
                if head.startswith(tag):
                    done = True
                    self._finish(command, head[len(tag) :])
                    return
                if head.startswith((b"* BYE", b"+")):
                    done = True
                    raise ImapConnectionError(f"server ended the session: {head[:200]!r}")
                yield resp
        except GeneratorExit:
            if not done:
                self._drain(tag, readline, read)
            raise

    def _readers(self) -> tuple[ReadLine, Read]:
        """The connection's readline/read, reporting each chunk's size while a budget runs."""
        reader = cast(BinaryIO, self._imap.file)
        progress = self.progress
        if progress is None:
            return reader.readline, reader.read

        def readline(limit: int) -> bytes:
            return _chunked(reader.readline, limit, progress, line=True)

        def read(size: int) -> bytes:
            # A large literal in pieces, so a slow but honest link earns its time while it reads.
            return _chunked(reader.read, size, progress, line=False)

        return readline, read

    def run(self, command: bytes) -> list[Response]:
        """Run a command to completion and return its untagged responses."""
        return list(self.stream(command))

    def pipeline(self, commands: Sequence[bytes]) -> list[bytes]:
        """Write all commands in one burst, then read their tagged statuses in order (one round trip).

        Untagged responses are dropped; a NO/BAD is returned, not raised, so the caller decides what
        a failed earlier command means for the later ones. Every reply is read before returning.
        """
        tags = []
        burst = b""
        for command in commands:
            require_single_line(command, "IMAP command")
            self._counter += 1
            tags.append(b"EZ%d " % self._counter)
            burst += tags[-1] + command + b"\r\n"
        self._imap.send(burst)
        readline, read = self._readers()
        statuses = []
        for tag in tags:
            while not (head := read_response(readline, read).head).startswith(tag):
                if head.startswith((b"* BYE", b"+")):
                    raise ImapConnectionError(f"server ended the session: {head[:200]!r}")
            statuses.append(head[len(tag) :])
        self.last_status = statuses[-1] if statuses else self.last_status
        return statuses

    def _finish(self, command: bytes, status: bytes) -> None:
        self.last_status = status
        if not status.startswith(b"OK"):
            verb = b" ".join(command.split(b" ")[:2]).decode("ascii", "replace")
            raise ImapCommandError(f"{verb} failed: {status.decode('utf-8', 'replace')}")

    @staticmethod
    def _drain(tag: bytes, readline: ReadLine, read: Read) -> None:
        while not read_response(readline, read).head.startswith(tag):
            pass
