"""A real SMTP submission server (aiosmtpd) on 127.0.0.1 with STARTTLS, AUTH and scripted faults.

Tests drive the production SMTP adapter against it over real sockets; scripted replies let a test
force 4xx/5xx answers, dropped connections and stalls at a chosen command.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import json
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"
SCRIPTABLE = ("MAIL", "RCPT", "DATA")


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted transaction, as the server saw it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    user: str | None
    tls: bool


@dataclass(frozen=True)
class ScriptedReply:
    """A fault to apply once at the next matching command (reply None + close = silent drop)."""

    command: str
    reply: str | None
    rcpt: str | None
    close: bool
    stall: float
    deliver: bool


def make_self_signed_cert(names: tuple[str, ...] = (HOST, "localhost")) -> tuple[bytes, bytes]:
    """Return (cert_pem, key_pem) for a fresh self-signed server certificate valid for `names`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (callers retry on the rare collision)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class _ScriptedSMTP(SMTP):
    """aiosmtpd's SMTP that can close the connection right after sending a reply."""

    close_after_reply = False

    async def push(self, status: Any) -> None:
        await super().push(status)
        if self.close_after_reply and self.transport is not None:
            self.transport.close()


class _Handler:
    """aiosmtpd handler: records transactions and applies scripted faults."""

    def __init__(self, server: SmtpTestServer) -> None:
        self._server = server

    async def handle_MAIL(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str | None:
        if self._server._auth_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        fault = await self._server._apply_fault(smtp, "MAIL", None)
        if fault is not None:
            return fault
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str | None:
        fault = await self._server._apply_fault(smtp, "RCPT", address)
        if fault is not None:
            return fault
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        script = self._server._take_script("DATA", None)
        if script is None or script.deliver:
            self._server._record(smtp, session, envelope)
        if script is not None:
            fault = await self._server._run_script(smtp, script)
            if fault is not None:
                return fault
        return "250 OK: queued"


# Checks an OAuth2 access token (the token server's introspection): the username it belongs to, or None.
TokenChecker = Callable[[str], "str | None"]
BEARER_MECHANISMS = ("XOAUTH2", "OAUTHBEARER")


def _bearer_fields(payload: bytes) -> tuple[str, str]:
    """(user, token) from an XOAUTH2 or OAUTHBEARER initial response ("" when absent)."""
    text = payload.decode("utf-8", "replace")
    user, token = "", ""
    head, _, rest = text.partition("\x01") if text.startswith("n,") else ("", "", text)
    for part in head.split(","):
        if part.startswith("a="):
            user = part[2:].replace("=2C", ",").replace("=3D", "=")
    for field in rest.split("\x01"):
        if field.startswith("user="):
            user = field[5:]
        elif field.startswith("auth=Bearer "):
            token = field[len("auth=Bearer ") :]
    return user, token


class _OAuthHandler(_Handler):
    """The handler plus AUTH XOAUTH2 and OAUTHBEARER (aiosmtpd's auth_<MECHANISM> hook), each token
    checked against the token server; a refused token gets the JSON error challenge, then 535."""

    async def auth_XOAUTH2(self, smtp: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer(smtp, args)

    async def auth_OAUTHBEARER(self, smtp: SMTP, args: list[str]) -> AuthResult:
        return await self._bearer(smtp, args)

    async def _bearer(self, smtp: SMTP, args: list[str]) -> AuthResult:
        if len(args) < 2:
            response = await smtp.challenge_auth("")
            if not isinstance(response, bytes):
                return AuthResult(success=False, handled=True)
            payload = response
        else:
            payload = base64.b64decode(args[1])
        user, token = _bearer_fields(payload)
        checker = self._server.token_checker
        owner = checker(token) if checker is not None and token else None
        if owner is None or owner != user:
            error = json.dumps({"status": "401", "schemes": "bearer", "scope": "mail"})
            await smtp.challenge_auth(error)  # the client answers with an empty line (or ^A)
            return AuthResult(
                success=False, handled=False, message="535 5.7.8 Authentication credentials invalid"
            )
        self._server.bearer_logins.append((args[0].upper(), user))
        return AuthResult(success=True, auth_data=user)


class SmtpTestServer:
    """Submission server: STARTTLS on `port`, implicit TLS on `tls_port`, AUTH only after TLS.

    With a `token_checker` it also offers OAuth2 bearer AUTH (`oauth_mechanisms`, XOAUTH2 by default).
    """

    def __init__(
        self,
        users: Mapping[str, str],
        *,
        implicit_tls: bool = True,
        auth_required: bool = True,
        token_checker: TokenChecker | None = None,
        oauth_mechanisms: tuple[str, ...] = ("XOAUTH2",),
    ) -> None:
        self.token_checker = token_checker
        self.oauth_mechanisms = oauth_mechanisms
        self.bearer_logins: list[tuple[str, str]] = []  # (mechanism, user) of accepted bearer logins
        self.host = HOST
        self.users = dict(users)
        self._auth_required = auth_required
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._scripts: list[ScriptedReply] = []
        self._connections = 0
        self._implicit_tls = implicit_tls
        self._controllers: list[Controller] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.port = 0
        self.tls_port = 0
        self.cert_pem = ""

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> SmtpTestServer:
        """Generate a certificate, bind free ports and start the server threads."""
        cert_pem, key_pem = make_self_signed_cert()
        self.cert_pem = cert_pem.decode("ascii")
        self._tmp = tempfile.TemporaryDirectory(prefix="smtp-test-")
        cert_file, key_file = Path(self._tmp.name, "cert.pem"), Path(self._tmp.name, "key.pem")
        cert_file.write_bytes(cert_pem)
        key_file.write_bytes(key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.port = self._start_controller(tls_context=context)
        if self._implicit_tls:
            self.tls_port = self._start_controller(ssl_context=context)
        with self._lock:
            self._connections = 0  # the controllers' own readiness probes do not count
        return self

    def _start_controller(self, **tls: ssl.SSLContext) -> int:
        for _attempt in range(5):
            port = free_port()
            controller = _Controller(self, port=port, **tls)
            try:
                controller.start()
            except OSError:
                continue
            self._controllers.append(controller)
            return port
        raise RuntimeError("could not bind a free port for the SMTP test server")

    def stop(self) -> None:
        """Stop every listener and delete the certificate files."""
        for controller in self._controllers:
            controller.stop()
        self._controllers.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # test-facing state -------------------------------------------------------------------------
    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of the accepted transactions, oldest first."""
        with self._lock:
            return list(self._messages)

    @property
    def connections(self) -> int:
        """Number of TCP connections accepted since start() or clear()."""
        with self._lock:
            return self._connections

    def clear(self) -> None:
        """Forget recorded messages, pending scripts and the connection count."""
        with self._lock:
            self._messages.clear()
            self._scripts.clear()
            self._connections = 0

    def script_reply(
        self,
        command: str,
        reply: str | None = None,
        *,
        rcpt: str | None = None,
        close: bool = False,
        stall: float = 0.0,
        deliver: bool | None = None,
    ) -> None:
        """Queue a one-shot fault for the next MAIL/RCPT/DATA (optionally only RCPT to `rcpt`).

        `reply` replaces the answer; `close` closes the connection after it (or without any reply
        when `reply` is None); `stall` sleeps first. A DATA body is recorded when `deliver` (default:
        reply is None or 2xx, so a silent drop after DATA models "delivered but unacknowledged").
        """
        command = command.upper()
        if command not in SCRIPTABLE:
            raise ValueError(f"cannot script {command!r}; choose one of {SCRIPTABLE}")
        if deliver is None:
            deliver = reply is None or reply.startswith("2")
        script = ScriptedReply(command, reply, rcpt.lower() if rcpt else None, close, stall, deliver)
        with self._lock:
            self._scripts.append(script)

    # internals used by the handler (run on the server threads) ---------------------------------
    def _count_connection(self) -> None:
        with self._lock:
            self._connections += 1

    def _take_script(self, command: str, rcpt: str | None) -> ScriptedReply | None:
        with self._lock:
            for index, script in enumerate(self._scripts):
                if script.command != command:
                    continue
                if script.rcpt is not None and script.rcpt != (rcpt or "").lower():
                    continue
                return self._scripts.pop(index)
        return None

    async def _apply_fault(self, smtp: SMTP, command: str, rcpt: str | None) -> str | None:
        script = self._take_script(command, rcpt)
        return None if script is None else await self._run_script(smtp, script)

    async def _run_script(self, smtp: SMTP, script: ScriptedReply) -> str | None:
        if script.stall:
            await asyncio.sleep(script.stall)
        if script.close and script.reply is None:
            transport = smtp.transport
            assert isinstance(transport, asyncio.Transport)
            transport.abort()
            await asyncio.sleep(3600)  # connection_lost() cancels us, exactly like a real drop
        if script.close and isinstance(smtp, _ScriptedSMTP):
            smtp.close_after_reply = True
        return script.reply

    def _record(self, smtp: SMTP, session: Session, envelope: Envelope) -> None:
        transport = smtp.transport
        tls = transport is not None and transport.get_extra_info("ssl_object") is not None
        raw = envelope.original_content or b""
        message = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=bytes(raw).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
            user=session.auth_data if isinstance(session.auth_data, str) else None,
            tls=tls,
        )
        with self._lock:
            self._messages.append(message)

    def _authenticate(
        self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        if self.users.get(login) != data.password.decode("utf-8", "replace"):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=login)


class _Controller(Controller):
    """Controller whose SMTP instances count connections and honour close-after-reply."""

    def __init__(
        self,
        owner: SmtpTestServer,
        *,
        port: int,
        tls_context: ssl.SSLContext | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        bearer = owner.token_checker is not None
        excluded = [m for m in BEARER_MECHANISMS if not bearer or m not in owner.oauth_mechanisms]
        super().__init__(
            _OAuthHandler(owner) if bearer else _Handler(owner),
            hostname=HOST,
            auth_exclude_mechanism=excluded,
            port=port,
            ssl_context=ssl_context,
            server_hostname="smtp.test.invalid",
            tls_context=tls_context,
            authenticator=owner._authenticate,
            # Implicit TLS is encrypted from the first byte, so AUTH needs no STARTTLS there.
            auth_require_tls=ssl_context is None,
            ready_timeout=10.0,
        )
        self._owner = owner

    def factory(self) -> SMTP:
        self._owner._count_connection()
        return _ScriptedSMTP(self.handler, **self.SMTP_kwargs)
