"""Real local TCP servers that misbehave: accept and say nothing, answer garbage, or trickle bytes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def misbehaving_server(mode: str, payload: bytes = b"", interval: float = 1.0) -> Iterator[int]:
    """Yields the port. mode: 'silent' (accept, never answer), 'garbage' (send payload, then hold the
    line open), 'trickle' (one byte of payload every `interval` seconds, forever)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve(conn: socket.socket) -> None:
        sent = 0
        try:
            if mode == "garbage":
                conn.sendall(payload)
            while not stop.is_set():
                if mode == "trickle":
                    conn.sendall(payload[sent % len(payload) :][:1])
                    sent += 1
                stop.wait(interval)
        except OSError:
            pass
        finally:
            conn.close()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for conn in held:
            conn.close()
