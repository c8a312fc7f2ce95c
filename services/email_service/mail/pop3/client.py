"""A POP3 session: connect through the outbound policy, log in, UIDL, RETR (checked by UIDL), DELE, QUIT.

Message numbers are only valid within one session, so every operation that names a message takes
its UIDL and maps it to this session's number from the session's own UIDL listing.
"""

from __future__ import annotations

import poplib
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType

from email_service.core import net_policy
from email_service.core.deadline import deadline, watching
from email_service.mail.imap.conn import make_ssl_context, pinned_ders
from email_service.mail.pop3.types import (
    Pop3AuthError,
    Pop3CommandError,
    Pop3ConnectionError,
    Pop3Error,
    Pop3HostRefused,
    Pop3Settings,
    Pop3TlsError,
)
from email_service.mail.wire_text import has_line_break

# RFC 2449/3206 response codes that mean "later", not "wrong credentials".
_TRANSIENT = re.compile(rb"\[(SYS/TEMP|IN-USE|LOGIN-DELAY)\]")
# A message line may be long (poplib's own limit is 2048 bytes); a line beyond this is refused.
MAX_LINE = 1024 * 1024


class _PolicyPOP3(poplib.POP3):
    """poplib connection whose socket comes from net_policy.connect; implicit TLS when asked."""

    def __init__(self, settings: Pop3Settings, tls: ssl.SSLContext | None) -> None:
        self._settings = settings
        self._tls = tls
        super().__init__(settings.host, settings.port, timeout=settings.timeout)

    def _create_socket(self, timeout: float) -> socket.socket:
        s = self._settings
        sock = net_policy.connect(s.host, s.port, s.timeout, s.allowed_private_hosts)
        if self._tls is None:
            return sock
        try:
            return self._tls.wrap_socket(sock, server_hostname=s.host)
        except BaseException:
            sock.close()
            raise

    def _getline(self) -> tuple[bytes, int]:  # poplib's, with a larger line limit
        line = self.file.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise poplib.error_proto("line too long")
        if not line:
            raise EOFError("connection closed by the server")
        octets = len(line)
        if line[-2:] == b"\r\n":
            return line[:-2], octets
        if line[:1] == b"\r":
            return line[1:-1], octets
        return line[:-1], octets


@contextmanager
def guard(what: str) -> Iterator[None]:
    """Map poplib/socket errors to the adapter's Pop3Error family."""
    try:
        yield
    except Pop3Error:
        raise
    except net_policy.HostNotAllowed as exc:
        raise Pop3HostRefused(f"pop3_host {exc}") from None
    except ssl.SSLCertVerificationError as exc:
        raise Pop3TlsError(f"{what}: TLS certificate refused ({exc.verify_message})") from exc
    except (OSError, EOFError) as exc:
        raise Pop3ConnectionError(f"{what}: {exc or 'connection lost'}") from exc
    except poplib.error_proto as exc:
        raise Pop3CommandError(f"{what}: {_text(exc)}") from exc


def _text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else b""
    raw = arg if isinstance(arg, bytes) else str(arg).encode()
    return raw[:200].decode("utf-8", "replace")


class Pop3Session:
    """One logged-in POP3 session; use as a context manager (QUIT on a clean exit, drop otherwise).

    DELE only takes effect at QUIT (RFC 1939 UPDATE state): leave the block normally to commit them.
    """

    def __init__(self, settings: Pop3Settings) -> None:
        self._settings = settings
        self._pop = self._open(settings)
        self._numbers: dict[str, int] | None = None
        self._sizes: dict[int, int] = {}

    @staticmethod
    def _open(settings: Pop3Settings) -> _PolicyPOP3:
        if has_line_break(settings.username) or has_line_break(settings.password):
            raise Pop3AuthError("username or password contains CR, LF or NUL; refused before sending")
        ctx = None if settings.security == "none" else make_ssl_context(settings)
        with deadline(settings.timeout) as budget:
            try:
                with guard(f"connect to {settings.host}:{settings.port}"):
                    pop = _PolicyPOP3(settings, ctx if settings.security == "ssl" else None)
            except Pop3ConnectionError as exc:
                raise _late(budget.expired, budget.seconds, exc) from exc
            try:
                with guard("STLS/login"):
                    if settings.security == "starttls":
                        pop.stls(ctx)
                    if settings.pinned_cert_pem and settings.security != "none":
                        sock = pop.sock
                        peer = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
                        if peer not in pinned_ders(settings.pinned_cert_pem):
                            raise Pop3TlsError("server certificate does not match the pinned certificate")
                    _login(pop, settings.username, settings.password)
            except BaseException as exc:
                with suppress(Exception):
                    pop.close()
                if isinstance(exc, Pop3ConnectionError):
                    raise _late(budget.expired, budget.seconds, exc) from exc
                raise
        return pop

    # -- commands ---------------------------------------------------------------------------------

    @contextmanager
    def _op(self, what: str, expect_bytes: int = 0) -> Iterator[None]:
        s = self._settings
        seconds = s.command_timeout + expect_bytes / s.min_bytes_per_second
        budget = None
        try:
            with watching(self._pop.sock, seconds) as budget, guard(what):
                yield
        except Pop3ConnectionError as exc:
            self.close()
            if budget is not None and budget.expired:
                raise Pop3ConnectionError(f"{what}: the server took longer than allowed; gave up") from exc
            raise

    def uidl(self) -> dict[str, int]:
        """{uidl: message number} for this session (sizes from LIST kept for RETR's time budget)."""
        with self._op("UIDL"):
            _resp, lines, _octets = self._pop.uidl()
            _resp, sizes, _octets = self._pop.list()
        numbers: dict[str, int] = {}
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit():
                numbers[parts[1].decode("ascii", "replace")] = int(parts[0])
        for line in sizes:
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                self._sizes[int(parts[0])] = int(parts[1])
        self._numbers = numbers
        return dict(numbers)

    def _number(self, uidl: str) -> int | None:
        numbers = self._numbers if self._numbers is not None else self.uidl()
        return numbers.get(uidl)

    def retr(self, uidl: str) -> bytes | None:
        """The message's raw bytes (CRLF lines, dot-unstuffed), or None when the UIDL is gone."""
        number = self._number(uidl)
        if number is None:
            return None
        with self._op("UIDL/RETR", self._sizes.get(number, 0)):
            resp = self._pop.uidl(number)  # does the number still name this message?
            parts = resp.split() if isinstance(resp, bytes) else []
            if len(parts) < 3 or parts[2].decode("ascii", "replace") != uidl:
                return None
            _resp, lines, _octets = self._pop.retr(number)
        return b"\r\n".join(lines) + b"\r\n"

    def dele(self, uidl: str) -> bool:
        """Mark the message for deletion at QUIT; False when the UIDL is no longer on the server."""
        number = self._number(uidl)
        if number is None:
            return False
        with self._op("DELE"):
            self._pop.dele(number)
        return True

    def quit(self) -> None:
        """QUIT: the server commits DELEs now."""
        with self._op("QUIT"):
            self._pop.quit()

    def close(self) -> None:
        """Drop the connection without QUIT (pending DELEs are discarded by the server)."""
        with suppress(Exception):
            self._pop.close()

    def __enter__(self) -> Pop3Session:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.quit()
        else:
            self.close()


def _login(pop: poplib.POP3, username: str, password: str) -> None:
    try:
        pop.user(username)
        pop.pass_(password)
    except poplib.error_proto as exc:
        text = _text(exc).encode()
        if _TRANSIENT.search(text):
            raise Pop3ConnectionError(f"login temporarily refused: {text.decode()}") from exc
        raise Pop3AuthError(f"login refused: {text.decode()}") from exc


def _late(expired: bool, seconds: float, exc: Pop3ConnectionError) -> Pop3ConnectionError:
    if expired:
        return Pop3ConnectionError(f"connect and login took longer than {seconds:g} s; gave up")
    return exc
