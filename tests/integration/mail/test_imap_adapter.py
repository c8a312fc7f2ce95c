"""The IMAP adapter against a real private Dovecot over real sockets (plain, STARTTLS, implicit TLS)."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import pytest

from email_service.mail.imap.client import (
    ImapAuthError,
    ImapCommandError,
    ImapConnectionError,
    ImapSession,
    ImapSettings,
    connect,
)
from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot_fixtures import DovecotFactory, ImapUser, new_user

# Dovecot still understands MOVE/CONDSTORE/... but no longer advertises them.
NO_EXTENSIONS = "IMAP4rev1 LITERAL+ ENABLE IDLE NAMESPACE UIDPLUS"


def message(i: int, body: bytes = b"") -> bytes:
    return b"From: a@example.test\r\nSubject: message %d\r\n\r\nbody %d\r\n%s" % (i, i, body)


def settings(user: ImapUser, **overrides: object) -> ImapSettings:
    values: dict[str, object] = {
        "host": user.host,
        "port": user.port,
        "security": "none",
        "username": user.username,
        "password": user.password,
        "timeout": 10,
    }
    values.update(overrides)
    return ImapSettings(**values)  # type: ignore[arg-type]


def pinned(user: ImapUser, security: str) -> ImapSettings:
    port = user.ssl_port if security == "ssl" else user.port
    return settings(user, security=security, port=port, pinned_cert_pem=user.server.cert_pem.decode())


def test_login_ok_and_bad_password(imap_user: ImapUser) -> None:
    with connect(settings(imap_user)) as imap:
        assert {"IMAP4REV1", "CONDSTORE", "QRESYNC", "MOVE", "UIDPLUS"} <= imap.capabilities
        assert imap.condstore and imap.qresync and imap.uidplus and imap.special_use and imap.esearch
    with pytest.raises(ImapAuthError):
        connect(settings(imap_user, password="wrong"))


def test_credentials_with_line_breaks_never_reach_the_server(imap_user: ImapUser) -> None:
    """Before the guard a CRLF in the username sent the rest of it to Dovecot as further commands."""
    smuggled = f"nobody\r\nZ1 LOGIN {imap_user.username} {imap_user.password}\r\nZ2 NOOP"
    for changes in ({"username": smuggled}, {"password": "x\r\nZ1 LOGOUT"}, {"username": "a\x00b"}):
        with pytest.raises(ImapAuthError, match="CR, LF or NUL"):
            connect(settings(imap_user, **changes))
    with connect(settings(imap_user)) as imap:  # the real credentials still work
        assert "IMAP4REV1" in imap.capabilities


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_pinned_self_signed_cert(imap_user: ImapUser, security: str) -> None:
    with connect(pinned(imap_user, security)) as imap:
        assert imap.select("INBOX").exists == 0


def test_tls_verification_rejects_unknown_cert(imap_user: ImapUser, dovecot_factory: DovecotFactory) -> None:
    with pytest.raises(ImapConnectionError):
        connect(settings(imap_user, security="ssl", port=imap_user.ssl_port))
    other = dovecot_factory()  # a different self-signed cert must not match the pin
    with pytest.raises(ImapConnectionError):
        connect(
            settings(
                imap_user, security="ssl", port=imap_user.ssl_port, pinned_cert_pem=other.cert_pem.decode()
            )
        )
    with connect(settings(imap_user, security="ssl", port=imap_user.ssl_port, verify_cert=False)) as imap:
        imap.noop()


def test_connection_refused_and_timeout_are_transient(imap_user: ImapUser) -> None:
    with socket.socket() as idle:  # accepts TCP but never sends a greeting
        idle.bind(("127.0.0.1", 0))
        idle.listen(1)
        with pytest.raises(ImapConnectionError):
            connect(settings(imap_user, port=idle.getsockname()[1], timeout=0.3))
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with pytest.raises(ImapConnectionError):
        connect(settings(imap_user, port=port))


def test_list_folders_roles_with_special_use(imap_user: ImapUser) -> None:
    with connect(settings(imap_user)) as imap:
        imap.create_folder("Projects")
        roles = {f.name: f.role for f in imap.list_folders()}
    assert roles == {
        "INBOX": "inbox",
        "Sent": "sent",
        "Trash": "trash",
        "Junk": "junk",
        "Drafts": "drafts",
        "Archive": "archive",
        "Projects": None,
    }


def test_list_folders_name_fallback_without_special_use(dovecot_factory: DovecotFactory) -> None:
    user = new_user(dovecot_factory(capabilities=NO_EXTENSIONS, special_use=False))
    with connect(settings(user)) as imap:
        assert not (imap.special_use or imap.condstore or imap.move_supported or imap.esearch)
        for name in ("Sent Items", "Deleted Items", "Spam", "Drafts", "Archive", "Misc"):
            imap.create_folder(name)
        folders = imap.list_folders()
    roles = {f.name: f.role for f in folders}
    assert roles == {
        "INBOX": "inbox",
        "Sent Items": "sent",
        "Deleted Items": "trash",
        "Spam": "junk",
        "Drafts": "drafts",
        "Archive": "archive",
        "Misc": None,
    }


def test_select_status_and_uidvalidity_change(imap_user: ImapUser) -> None:
    imap_user.server.seed_maildir(imap_user.username, "Archive", [message(i) for i in range(3)])
    with connect(settings(imap_user)) as imap:
        info = imap.select("Archive")
        assert (info.uidnext, info.exists) == (4, 3)
        assert info.uidvalidity > 0 and info.highestmodseq is not None
        status = imap.status("Archive")
        assert (status.messages, status.unseen, status.uidvalidity) == (3, 3, info.uidvalidity)
        imap.select("INBOX")
        imap.delete_folder("Archive")
        imap.create_folder("Archive")
        assert imap.select("Archive").uidvalidity != info.uidvalidity
        with pytest.raises(ImapCommandError):
            imap.select("Does-Not-Exist")
        imap.noop()  # a failed command leaves the session usable


def test_fetch_returns_exact_bytes_and_flags_without_setting_seen(imap_user: ImapUser) -> None:
    raws = [message(i, b"A ) tricky {5}\r\n line\r\n" * i) for i in range(1, 6)]
    imap_user.server.seed_maildir(imap_user.username, "INBOX", raws[:3], flags=["\\Flagged"])
    imap_user.server.seed_maildir(imap_user.username, "INBOX", raws[3:], flags=["\\Seen", "\\Answered"])
    with connect(settings(imap_user)) as imap:
        imap.select("INBOX")
        got = list(imap.fetch_messages([5, 1, 2, 3, 4]))
        again = imap.fetch_flags()
    assert sorted(m.raw for m in got) == sorted(raws)
    by_uid = {m.uid: m for m in got}
    assert [by_uid[u].flags for u in (1, 4)] == [("\\Flagged",), ("\\Answered", "\\Seen")]
    assert all(m.size == len(m.raw) and m.modseq and isinstance(m.internaldate, datetime) for m in got)
    assert [u.flags for u in again][:3] == [("\\Flagged",)] * 3  # BODY.PEEK[] left \Seen unset


def test_fetch_range_and_abandoned_stream_keeps_session_usable(imap_user: ImapUser) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(20)])
    with connect(settings(imap_user)) as imap:
        imap.select("INBOX")
        stream = imap.fetch_messages("1:*")
        assert next(stream).uid == 1
        stream.close()  # drains the rest of the response
        assert [m.uid for m in imap.fetch_messages("18:*")] == [18, 19, 20]
        assert imap.search_uids() == list(range(1, 21))


def test_fetch_flags_changedsince(imap_user: ImapUser) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(5)])
    with connect(settings(imap_user)) as imap:
        before = imap.select("INBOX", readonly=False).highestmodseq
        assert before is not None
        imap.add_flags([2, 4], ["\\Seen", "$Important"])
        changed = imap.fetch_flags(changedsince=before)
        imap.remove_flags([4], ["$Important"])
        later = imap.fetch_flags("4", changedsince=before)
    assert [(c.uid, c.flags) for c in changed] == [
        (2, ("\\Seen", "$Important")),
        (4, ("\\Seen", "$Important")),
    ]
    assert all(c.modseq and c.modseq > before for c in changed)
    assert [(c.uid, c.flags) for c in later] == [(4, ("\\Seen",))]


def test_qresync_reports_vanished_after_expunge(imap_user: ImapUser) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(6)])
    with connect(settings(imap_user)) as imap:
        state = imap.select("INBOX", readonly=False)
        assert state.highestmodseq is not None
        imap.add_flags([2, 5], ["\\Deleted"])
        imap.uid_expunge([2, 5])
        imap.add_flags([3], ["\\Flagged"])
    with connect(settings(imap_user)) as imap:
        result = imap.select_qresync("INBOX", state.uidvalidity, state.highestmodseq, known_uids="1:6")
    assert result.vanished == [2, 5]
    assert [(c.uid, c.flags) for c in result.changed] == [(3, ("\\Flagged",))]
    assert result.info.exists == 4


def test_uid_expunge_leaves_other_deleted_message_alone(imap_user: ImapUser) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(4)])
    with connect(settings(imap_user)) as imap:
        imap.select("INBOX", readonly=False)
        imap.add_flags([1, 3], ["\\Deleted"])
        imap.uid_expunge([3])
        assert imap.search_uids() == [1, 2, 4]
        assert imap.search_uids("DELETED") == [1]


def _check_move(imap: ImapSession, remaining: list[int]) -> None:
    imap.select("INBOX", readonly=False)
    mapping = imap.move([2, 3], "Trash")
    assert mapping is not None and sorted(mapping) == [2, 3]
    assert imap.search_uids() == remaining
    imap.select("Trash")
    moved = {m.uid: m.raw for m in imap.fetch_messages(list(mapping.values()))}
    assert moved == {mapping[2]: message(2), mapping[3]: message(3)}


def test_move_with_move_capability(imap_user: ImapUser) -> None:
    imap_user.server.seed_maildir(imap_user.username, "INBOX", [message(i) for i in range(1, 5)])
    with connect(settings(imap_user)) as imap:
        assert imap.move_supported
        _check_move(imap, remaining=[1, 4])


def test_move_without_move_capability(dovecot_factory: DovecotFactory) -> None:
    server = dovecot_factory(capabilities=NO_EXTENSIONS)
    user = new_user(server)
    server.seed_maildir(user.username, "INBOX", [message(i) for i in range(1, 5)])
    server.seed_maildir(user.username, "INBOX", [message(99)], flags=["\\Deleted"])
    with connect(settings(user)) as imap:
        assert not imap.move_supported and imap.uidplus
        _check_move(imap, remaining=[1, 4, 5])  # the unrelated \Deleted message 5 survived
        with pytest.raises(ImapCommandError):
            imap.fetch_flags(changedsince=1)
        assert imap.select("INBOX").highestmodseq is None


def test_append_returns_uid_and_restart_keeps_mail(dovecot_factory: DovecotFactory) -> None:
    server: DovecotServer = dovecot_factory()
    user = new_user(server)
    when = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
    with connect(settings(user)) as imap:
        uid = imap.append("Sent", message(1), flags=["\\Seen"], internaldate=when)
        assert uid == 1
        assert imap.append("Sent", message(2)) == 2
    server.restart(capabilities=NO_EXTENSIONS)  # new ports, same maildirs
    with connect(settings(user, port=server.imap_port)) as imap:
        assert not imap.condstore
        assert imap.select("Sent").exists == 2
        first = next(imap.fetch_messages([1]))
        assert (first.raw, first.flags, first.internaldate) == (message(1), ("\\Seen",), when)


def test_perf_fetch_10k_vs_raw_socket(imap_user: ImapUser, capsys: pytest.CaptureFixture[str]) -> None:
    """Manual figure, not a timed assertion: run with -s to see msgs/s for the adapter vs a raw socket."""
    body = (b"x" * 75 + b"\r\n") * 64  # ~5 KB
    imap_user.server.seed_maildir(imap_user.username, "Archive", [message(i, body) for i in range(10_000)])
    with connect(settings(imap_user)) as imap:
        imap.select("Archive")  # first SELECT indexes the maildir
        start = time.perf_counter()
        count = sum(
            1 for batch in range(0, 10_000, 1000) for _ in imap.fetch_messages(range(batch + 1, batch + 1001))
        )
        adapter = time.perf_counter() - start
        start = time.perf_counter()
        flags = imap.fetch_flags()
        flag_time = time.perf_counter() - start
    raw = _raw_fetch_seconds(imap_user, "Archive")
    assert count == 10_000 and len(flags) == 10_000
    with capsys.disabled():
        print(
            f"\n10k x 5KB: adapter {adapter:.2f}s ({count / adapter:.0f} msg/s), raw socket {raw:.2f}s, "
            f"fetch_flags {flag_time:.2f}s"
        )


def _raw_fetch_seconds(user: ImapUser, folder: str) -> float:
    with socket.create_connection((user.host, user.port), timeout=30) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(
            b'a LOGIN %s "%s"\r\nb EXAMINE %s\r\n'
            % (user.username.encode(), user.password.encode(), folder.encode())
        )
        while not reader.readline().startswith(b"b "):
            pass
        start = time.perf_counter()
        sock.sendall(b"c UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])\r\n")
        tail = b""
        while b"\r\nc OK" not in tail:
            chunk = sock.recv(1 << 20)
            assert chunk, "server closed the connection"
            tail = (tail + chunk)[-64:]
        return time.perf_counter() - start
