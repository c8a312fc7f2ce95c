"""A real IMAP listener on loopback that refuses every LOGIN with a chosen reply (a throttling provider).

Just enough of RFC 3501 for a client to get there: greeting, CAPABILITY, LOGIN, LOGOUT. It counts
the logins it was sent, so a test can tell a bounded retry schedule from a retry storm.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

CAPABILITIES = b"IMAP4rev1 AUTH=PLAIN"


@dataclass
class RefusingImap:
    port: int
    login_reply: bytes
    logins: list[str] = field(default_factory=list)


@contextmanager
def refusing_imap(login_reply: str) -> Iterator[RefusingImap]:
    """Yields the server; every LOGIN gets `<tag> <login_reply>` (e.g. "NO [ALERT] Too many ...")."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    server = RefusingImap(int(listener.getsockname()[1]), login_reply.encode())
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, suppress(OSError):
            conn.settimeout(10)
            conn.sendall(b"* OK [CAPABILITY " + CAPABILITIES + b"] scripted server ready\r\n")
            reader = conn.makefile("rb")
            for line in reader:
                tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
                command = rest.split(b" ", 1)[0].upper()
                if command == b"CAPABILITY":
                    conn.sendall(b"* CAPABILITY " + CAPABILITIES + b"\r\n" + tag + b" OK done\r\n")
                elif command == b"LOGIN":
                    server.logins.append(rest.decode("ascii", "replace").split(" ")[1])
                    conn.sendall(tag + b" " + server.login_reply + b"\r\n")
                elif command == b"LOGOUT":
                    conn.sendall(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                    return
                else:
                    conn.sendall(tag + b" BAD not scripted\r\n")

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
