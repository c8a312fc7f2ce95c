"""A loopback TCP proxy that injects network faults between the service and a real server.

Put it in front of Dovecot, the SMTP server or Redis (point the service at `proxy.port`) and, at any
moment: cut connections after N bytes in one direction (reset, as a failing network does), stall them,
or limit their bandwidth. Counters say how many connections and bytes went through and how many cuts.
Threads only, no dependencies: one accept thread, two pump threads per connection.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["up", "down"]  # up: client -> server, down: server -> client
HOST = "127.0.0.1"
CHUNK = 65536


@dataclass
class CutRule:
    """Reset the next `remaining` connections once `after_bytes` have passed in `direction`."""

    direction: Direction
    after_bytes: int
    remaining: int


@dataclass
class MarkerRule:
    """Reset the next connection whose `direction` data contains `marker`, before forwarding it."""

    direction: Direction
    marker: bytes


@dataclass
class Counters:
    connections: int = 0
    active: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    cuts: int = 0


class _Link:
    """One proxied connection: the two sockets and the bytes seen in each direction."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client, self.upstream = client, upstream
        self.seen: dict[Direction, int] = {"up": 0, "down": 0}
        self.closed = threading.Event()

    def reset(self) -> None:
        """Arrange an RST to both peers (SO_LINGER 0) and wake the pumps; _finish's close sends it.

        A plain close() from another thread would not interrupt a recv() blocked on the same socket.
        """
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD)


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`; fault methods take effect on live connections too."""

    def __init__(self, target_port: int, target_host: str = HOST) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.2)  # so the accept loop notices close()
        self.host, self.port = HOST, int(self._listener.getsockname()[1])
        self.counters = Counters()
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._threads: list[threading.Thread] = []
        self._cut: CutRule | None = None
        self._marker: MarkerRule | None = None
        self._flowing = threading.Event()
        self._flowing.set()
        self._rate: float | None = None
        self._stopped = threading.Event()
        self._spawn(self._accept)

    # -- faults ----------------------------------------------------------------------------------

    def cut_after(self, after_bytes: int, direction: Direction = "down", connections: int = 1) -> None:
        """Reset the next `connections` connections whose `direction` count reaches `after_bytes`."""
        with self._lock:
            self._cut = CutRule(direction, after_bytes, connections)

    def cut_on(self, marker: bytes, direction: Direction = "down") -> None:
        """Reset the next connection that carries `marker` in `direction`; that chunk is not forwarded.

        Upward (a command verb): the server never receives the command. Downward (a word only the
        reply has, e.g. b"[COPYUID"): the server has acted but the client never hears the reply.
        """
        with self._lock:
            self._marker = MarkerRule(direction, marker)

    def cut_all(self) -> None:
        """Reset every open connection now."""
        with self._lock:
            links, self._links = self._links, []
            self.counters.cuts += sum(1 for link in links if not link.closed.is_set())
        for link in links:
            link.reset()

    def stall(self) -> None:
        """Hold all traffic (connections stay open, nothing moves) until resume()."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def slow(self, bytes_per_second: float | None) -> None:
        """Limit each direction of each connection to this rate (None: unlimited)."""
        self._rate = bytes_per_second

    def heal(self) -> None:
        """Remove every fault: no pending cut, traffic flowing, no rate limit."""
        with self._lock:
            self._cut = None
            self._marker = None
        self._rate = None
        self.resume()

    # -- plumbing --------------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., Any], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            link = _Link(client, upstream)
            with self._lock:
                self._links.append(link)
                self.counters.connections += 1
                self.counters.active += 1
            self._spawn(self._pump, link, "up")
            self._spawn(self._pump, link, "down")

    def _pump(self, link: _Link, direction: Direction) -> None:
        src, dst = (link.client, link.upstream) if direction == "up" else (link.upstream, link.client)
        try:
            while not link.closed.is_set():
                self._wait_flowing(link)
                data = src.recv(CHUNK)
                if not data:
                    break
                self._forward(link, direction, dst, data)
        except OSError:
            pass
        finally:
            if not link.closed.is_set():  # a clean end: pass the FIN on
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
            if direction == "down":
                self._finish(link)

    def _forward(self, link: _Link, direction: Direction, dst: socket.socket, data: bytes) -> None:
        """Send `data` (or the part before a cut point, then reset), paced by the rate limit."""
        if self._marker_hit(direction, data):
            with self._lock:
                self.counters.cuts += 1
            link.reset()
            raise OSError("cut by the proxy at a marker")
        limit = self._cut_point(link, direction, len(data))
        if limit is not None:
            dst.sendall(data[:limit])
            self._count(link, direction, limit)
            with self._lock:
                self.counters.cuts += 1
            link.reset()
            raise OSError("cut by the proxy")
        for start in range(0, len(data), self._step()):
            piece = data[start : start + self._step()]
            self._wait_flowing(link)
            dst.sendall(piece)
            self._count(link, direction, len(piece))
            if self._rate:
                time.sleep(len(piece) / self._rate)

    def _marker_hit(self, direction: Direction, data: bytes) -> bool:
        with self._lock:
            rule = self._marker
            if rule is None or rule.direction != direction or rule.marker not in data:
                return False
            self._marker = None
            return True

    def _step(self) -> int:
        return max(1, min(CHUNK, int(self._rate / 20))) if self._rate else CHUNK

    def _cut_point(self, link: _Link, direction: Direction, size: int) -> int | None:
        with self._lock:
            rule = self._cut
            if rule is None or rule.direction != direction:
                return None
            if link.seen[direction] + size < rule.after_bytes:
                return None
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._cut = None
            return max(0, rule.after_bytes - link.seen[direction])

    def _count(self, link: _Link, direction: Direction, size: int) -> None:
        with self._lock:
            link.seen[direction] += size
            if direction == "up":
                self.counters.bytes_up += size
            else:
                self.counters.bytes_down += size

    def _wait_flowing(self, link: _Link) -> None:
        while not self._flowing.wait(0.05):
            if link.closed.is_set() or self._stopped.is_set():
                raise OSError("proxy stopped")

    def _finish(self, link: _Link) -> None:
        with self._lock:
            self.counters.active -= 1
            if link in self._links:
                self._links.remove(link)
        link.closed.set()
        for sock in (link.client, link.upstream):
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        """Stop accepting, reset what is open, and join the threads."""
        self._stopped.set()
        self._flowing.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.reset()
        for thread in self._threads:
            thread.join(timeout=5)
