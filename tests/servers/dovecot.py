"""A private, throw-away Dovecot IMAP (and POP3) server for integration tests and benchmarks.

Each instance lives in its own temp dir (config, sockets, state, maildirs, cert) and listens on
127.0.0.1 with free ports, so several can run at once beside a system Dovecot.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers.dovecot_virtual import virtual_all_config

SPECIAL_FOLDERS = ("Drafts", "Sent", "Trash", "Junk", "Archive")
MAILDIR_FLAG_LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S", "\\Deleted": "T"}
_USERNAME = re.compile(r"^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$")
# What a server without CONDSTORE/QRESYNC (Courier, many hosted servers) advertises, for `capabilities`.
NO_CONDSTORE = "IMAP4rev1 LITERAL+ ENABLE IDLE NAMESPACE UIDPLUS"
MISSING_BINARY = "dovecot binary not found: run `make test` (it installs the Debian package dovecot-imapd)"


_DOVECOT_LIBEXEC = ("/usr/lib/dovecot", "/usr/libexec/dovecot", "/usr/local/libexec/dovecot")


class DovecotError(RuntimeError):
    """The private Dovecot could not be started or driven."""


def free_port() -> int:
    """Ask the kernel for a currently unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_self_signed_cert() -> tuple[bytes, bytes]:
    """Return (cert_pem, key_pem) for CN=localhost with SANs localhost and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def scratch_parent() -> str | None:
    """Where temp dirs go: $DOVECOT_TEST_TMPDIR, else tmpfs (/dev/shm) when usable, else the default.

    Creating maildir files on a disk here costs ~1-2 ms each; on tmpfs 10k files take well under a second.
    """
    override = os.environ.get("DOVECOT_TEST_TMPDIR")
    if override:
        return override
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _accounts() -> tuple[str, str, str]:
    """(mail user, login user, internal user): root drops to system users, others run as themselves."""
    if os.geteuid() == 0:
        return "mail", "dovenull", "dovecot"
    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, me, me


class DovecotServer:
    """One private Dovecot instance: start()/stop()/restart(), users, and fast maildir seeding."""

    host = "127.0.0.1"

    def __init__(
        self,
        capabilities: str | None = None,
        special_use: bool = True,
        root: Path | None = None,
        virtual_all: bool = False,
        oauth2_introspection_url: str | None = None,
        oauth2_mechanisms: str = "xoauth2 oauthbearer",
    ) -> None:
        """`oauth2_introspection_url`: also accept XOAUTH2 and OAUTHBEARER, each token checked by a POST
        to that RFC 7662 endpoint (Dovecot's oauth2 passdb); passwords keep working for PLAIN/LOGIN."""
        self.oauth2_introspection_url = oauth2_introspection_url
        self.oauth2_mechanisms = oauth2_mechanisms
        binary = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
        if binary is None:
            raise DovecotError(MISSING_BINARY)
        self.binary = binary
        self.capabilities = capabilities
        self.special_use = special_use
        self.virtual_all = virtual_all  # a virtual \\All mailbox over every folder (Virtual.All)
        self._owns_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="dovecot-test-", dir=scratch_parent()))
        self.root.chmod(0o755)  # mail processes run unprivileged and must reach the maildirs
        self.mail_user, self.login_user, self.internal_user = _accounts()
        pw = pwd.getpwnam(self.mail_user)
        self.mail_uid, self.mail_gid = pw.pw_uid, pw.pw_gid
        self.imap_port = 0
        self.imaps_port = 0
        self.pop3_port = 0  # POP3 on the same maildirs when dovecot-pop3d is installed (0 = none)
        self.pop3_enabled = any(Path(d, "pop3").exists() for d in _DOVECOT_LIBEXEC)
        self.cert_pem, key_pem = make_self_signed_cert()
        (self.root / "cert.pem").write_bytes(self.cert_pem)
        (self.root / "key.pem").write_bytes(key_pem)
        (self.root / "key.pem").chmod(0o600)
        (self.root / "users").mkdir(exist_ok=True)
        (self.root / "mail").mkdir(exist_ok=True)
        os.chown(self.root / "mail", self.mail_uid, self.mail_gid)  # Dovecot creates homes on first login
        self.users: dict[str, str] = {}
        self._seeded = 0
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    def start(self, capabilities: str | None = None, same_ports: bool = False) -> DovecotServer:
        """Write the config and run `dovecot -F` until both ports accept connections (retries port races).

        `same_ports`: listen where the last run did (a restart clients reconnect to unchanged)."""
        if capabilities is not None:
            self.capabilities = capabilities
        keep = same_ports and self.imap_port != 0
        for _attempt in range(5):
            if not keep:
                self.imap_port, self.imaps_port = free_port(), free_port()
                self.pop3_port = free_port() if self.pop3_enabled else 0
            self.config_path.write_text(self._config())
            cmd = [self.binary, "-F", "-c", str(self.config_path)]
            self._proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
            if self._wait_ready(timeout=10.0):
                return self
            self.stop()
        raise DovecotError(f"dovecot did not start; log:\n{self._log_tail()}")

    def stop(self) -> None:
        """SIGTERM the master's process group; whatever is still alive after 0.1 s gets SIGKILL.

        (A login process still starting up can otherwise hold the master's shutdown for ~5 s.)
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # children share the group (start_new_session)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def restart(self, capabilities: str | None = None, same_ports: bool = False) -> DovecotServer:
        """Stop and start again on the same maildirs, e.g. with other advertised capabilities."""
        self.stop()
        self.capabilities = capabilities
        return self.start(same_ports=same_ports)

    def close(self) -> None:
        """Stop the server and remove its temp dir (only if this object created it)."""
        self.stop()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        pending = {self.imap_port, self.imaps_port} | ({self.pop3_port} if self.pop3_port else set())
        while pending and time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            for port in list(pending):
                with contextlib.suppress(OSError), socket.create_connection((self.host, port), 0.2):
                    pending.discard(port)
            if pending:
                time.sleep(0.01)
        return not pending

    def _log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-4000:]

    def _config(self) -> str:
        root = self.root
        mailboxes = "\n".join(
            f"  mailbox {name} {{\n    special_use = \\{name}\n    auto = subscribe\n  }}"
            for name in (SPECIAL_FOLDERS if self.special_use else ())
        )
        capability = f"imap_capability = {self.capabilities}\n" if self.capabilities is not None else ""
        protocols = "imap pop3" if self.pop3_port else "imap"
        virtual = virtual_all_config(root, self.mail_uid, self.mail_gid) if self.virtual_all else ""
        separator = "  separator = .\n" if self.virtual_all else ""  # namespaces must share it
        mechanisms, oauth_passdb, password_mechanisms = "plain login", "", ""
        if self.oauth2_introspection_url:
            (root / "oauth2.conf").write_text(
                "introspection_mode = post\n"
                f"introspection_url = {self.oauth2_introspection_url}\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
            )
            mechanisms = f"plain login {self.oauth2_mechanisms}"
            oauth_passdb = (
                f"passdb {{\n  driver = oauth2\n  mechanisms = {self.oauth2_mechanisms}\n"
                f"  args = {root}/oauth2.conf\n}}\n"
            )
            password_mechanisms = "  mechanisms = plain login\n"
        pop3 = (
            f"service pop3-login {{\n  inet_listener pop3 {{\n    address = 127.0.0.1\n"
            f"    port = {self.pop3_port}\n  }}\n  inet_listener pop3s {{\n    port = 0\n  }}\n}}\n"
            "pop3_uidl_format = %08Xu%08Xv\n"
            if self.pop3_port
            else ""
        )
        return f"""\
instance_name = dovecot-test-{root.name}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = {protocols}
listen = 127.0.0.1
default_login_user = {self.login_user}
default_internal_user = {self.internal_user}
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
mail_fsync = never
mail_location = maildir:{root}/mail/%u/Maildir
first_valid_uid = {self.mail_uid}
first_valid_gid = {self.mail_gid}
{oauth_passdb}passdb {{
  driver = passwd-file
{password_mechanisms}  args = scheme=PLAIN {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
namespace inbox {{
  inbox = yes
{mailboxes}
{separator}}}
{virtual}{capability}{pop3}"""

    # -- users and seeding -------------------------------------------------------------------

    def add_user(self, username: str, password: str) -> None:
        """Write a one-line {PLAIN} passwd-file for the user.

        One file per user (path /users/%u) because Dovecot re-reads a shared passwd-file only when its
        mtime changes, which misses users added within the same second.
        """
        if not _USERNAME.match(username) or any(c in password for c in ":\n\r"):
            raise ValueError(
                "username must match [A-Za-z0-9._@+-]+; password must not contain ':' or newlines"
            )
        self.users[username] = password
        (self.root / "users" / username).write_text(f"{username}:{{PLAIN}}{password}\n")

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        """Path of a folder's Maildir++ directory (INBOX is the Maildir root)."""
        base = self.root / "mail" / user / "Maildir"
        return base if folder.upper() == "INBOX" else base / ("." + folder.replace("/", "."))

    def seed_maildir(
        self,
        user: str,
        folder: str,
        messages: Iterable[bytes],
        flags: Sequence[str] = (),
        mtime: float | None = None,
    ) -> int:
        """Write messages straight into Maildir cur/ (fast bulk seeding); returns how many were written.

        Use CRLF line endings to get the same bytes back from FETCH BODY[]. `mtime` sets INTERNALDATE.
        """
        letters = "".join(sorted(MAILDIR_FLAG_LETTERS[f] for f in flags))
        folder_dir = self.maildir(user, folder)
        self._make_maildir(user, folder_dir)
        prefix = f"{folder_dir}/cur/{int(time.time())}.P{os.getpid()}M"
        uid, gid, count = self.mail_uid, self.mail_gid, 0
        for raw in messages:
            count += 1
            self._seeded += 1  # zero-padded so Dovecot's filename order (= UID order) is seeding order
            path = f"{prefix}{self._seeded:010d}.seed,S={len(raw)}:2,{letters}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, raw)
                os.fchown(fd, uid, gid)
            finally:
                os.close(fd)
            if mtime is not None:
                os.utime(path, (mtime, mtime))
        return count

    def _make_maildir(self, user: str, folder_dir: Path) -> None:
        """Create the user's tree and the folder's cur/new/tmp, all owned by the mail user."""
        home = self.root / "mail" / user
        subdirs = tuple(folder_dir / sub for sub in ("cur", "new", "tmp"))
        for path in (home, home / "Maildir", folder_dir, *subdirs):
            path.mkdir(exist_ok=True)
            os.chown(path, self.mail_uid, self.mail_gid)
        if folder_dir != home / "Maildir":
            marker = folder_dir / "maildirfolder"
            marker.touch()
            os.chown(marker, self.mail_uid, self.mail_gid)

    def append(self, user: str, folder: str, messages: Iterable[bytes], flags: Sequence[str] = ()) -> None:
        """Append over IMAP (slower than seed_maildir, but Dovecot assigns UIDs and modseqs itself)."""
        from imapclient import IMAPClient

        with IMAPClient(self.host, self.imap_port, ssl=False, timeout=30) as client:
            client.login(user, self.users[user])
            for raw in messages:
                client.append(folder, raw, flags=tuple(flags))
