"""A private, throw-away GNU Mailutils imap4d for integration tests.

No UIDPLUS, CONDSTORE, MOVE or SPECIAL-USE, and `UID SEARCH UID n:*` answers nothing: a server on which a
mirror that trusts UID SEARCH stays empty. Logins are `user@example.test` from a virtdomain passwd file
(crypt hashes); mailboxes are mbox files in a temp dir; it listens on 127.0.0.1 on a free port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from tests.servers.dovecot import free_port, scratch_parent

MISSING_BINARY = "imap4d not found: run `make test` (it installs the Debian package mailutils-imap4d)"
DOMAIN = "example.test"


class MailutilsError(RuntimeError):
    """The private imap4d could not be started or driven."""


def imap4d_binary() -> str | None:
    return shutil.which("imap4d") or shutil.which("imap4d", path="/usr/sbin:/usr/local/sbin")


def _crypt(password: str) -> str:
    """A SHA-512 crypt(3) hash, as the virtdomain passwd file wants it."""
    out = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


class MailutilsServer:
    """One private imap4d: start()/close(), users (`add_user`) and APPEND seeding."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        binary = imap4d_binary()
        if binary is None:
            raise MailutilsError(MISSING_BINARY)
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="imap4d-test-", dir=scratch_parent()))
        self.root.chmod(0o755)
        for sub in ("passwd", "mail"):
            (self.root / sub).mkdir()
        self.port = 0
        self.users: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        return self.root / "imap4d.conf"

    def _config(self) -> str:
        root = self.root
        return f"""\
logging {{ syslog false; }};
auth {{ authentication generic; authorization virtdomain; }};
virtdomain {{ passwd-dir "{root}/passwd"; }};
mailbox {{ mailbox-pattern "mbox://{root}/mail/${{user}}/INBOX"; }};
namespace personal {{ prefix "" {{ directory "{root}/mail/${{user}}"; }}; }};
tcp-wrappers {{ enable false; }};
server {self.host}:{self.port} {{ }};
pidfile "{root}/imap4d.pid";
mode daemon;
foreground true;
"""

    def start(self) -> MailutilsServer:
        """Run imap4d in the foreground until its port accepts connections (retries port races)."""
        for _attempt in range(5):
            self.port = free_port()
            self.config_path.write_text(self._config())
            log = (self.root / "imap4d.log").open("ab")
            self._proc = subprocess.Popen(
                [self.binary, f"--config-file={self.config_path}"],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            log.close()
            if self._wait_ready(timeout=10.0):
                return self
            self.stop()
        raise MailutilsError(f"imap4d did not start; log:\n{self._log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 0.2):
                return True
            time.sleep(0.01)
        return False

    def _log_tail(self) -> str:
        path = self.root / "imap4d.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        """TERM the server's process group (it forks a child per connection), then KILL what is left."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> MailutilsServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def add_user(self, name: str, password: str) -> str:
        """Create a user with an empty INBOX; returns the login (`name@example.test`)."""
        home = self.root / "mail" / name
        home.mkdir()
        (home / "INBOX").touch()
        uid, gid = os.getuid(), os.getgid()
        with (self.root / "passwd" / DOMAIN).open("a") as passwd:
            passwd.write(f"{name}:{_crypt(password)}:{uid}:{gid}:{name}:{home}:/bin/sh\n")
        login = f"{name}@{DOMAIN}"
        self.users[login] = password
        return login

    def append(self, login: str, messages: Iterable[bytes]) -> None:
        """APPEND each message to the user's INBOX over IMAP, as a mail client would."""
        from imapclient import IMAPClient

        with IMAPClient(self.host, self.port, ssl=False, timeout=30) as client:
            client.login(login, self.users[login])
            for raw in messages:
                client.append("INBOX", raw)
