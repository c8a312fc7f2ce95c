"""Real local TCP servers that misbehave: accept and say nothing, answer garbage, or trickle bytes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


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


@contextmanager
def trickling_proxy(upstream: int, trigger: bytes, interval: float = 1.0) -> Iterator[int]:
    """Yields the port of a proxy to 127.0.0.1:`upstream` that relays both ways at full speed until
    the client sends `trigger`; from then on it forwards the server's bytes one every `interval`
    seconds (a server that logs in fine, then trickles its answer to one command)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()
    open_sockets: list[socket.socket] = [listener]

    def relay(client: socket.socket) -> None:
        server = socket.create_connection(("127.0.0.1", upstream))
        open_sockets.extend([client, server])
        slow = threading.Event()

        def upward() -> None:
            seen = b""
            with suppress(OSError):
                while data := client.recv(65536):
                    seen = (seen + data)[-4096:]
                    if trigger in seen:
                        slow.set()
                    server.sendall(data)

        threading.Thread(target=upward, daemon=True).start()
        with suppress(OSError):
            while not stop.is_set() and (data := server.recv(65536)):
                for i in range(len(data)):
                    if not slow.is_set():
                        client.sendall(data[i:])
                        break
                    client.sendall(data[i : i + 1])
                    if stop.wait(interval):
                        return

    def accept() -> None:
        with suppress(OSError):
            while not stop.is_set():
                conn, _ = listener.accept()
                threading.Thread(target=relay, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        for sock in open_sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
