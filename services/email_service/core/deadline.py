"""A whole-operation deadline for network sessions: connect, TLS, login and every read together.

Socket timeouts bound each read only; a server sending one byte every 50 s never trips a 60 s read
timeout and holds its caller for as long as it likes. Inside `with deadline(s):` every socket that
net_policy.connect opens (in this context, and in threads started with a copy of it, as
asyncio.to_thread does) gets a timeout no longer than what is left, and is shut down when the time
is up, so a blocked read returns at once and the operation fails within the bound.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar


class Deadline:
    """One budget; holds a duplicate of each tracked socket's descriptor, so a shutdown at expiry
    reaches the right connection even after the owner closed or TLS-wrapped its socket object."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._closed = False
        self._timer = self._arm(seconds)

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                raise TimeoutError("deadline passed")
            self._socks.append(socket.socket(fileno=os.dup(sock.fileno())))

    def start(self) -> None:
        self._timer.start()

    def extend(self, seconds: float) -> None:
        """Move the end later (progress bought more time); the running timer re-arms when it fires."""
        with self._lock:
            self.expires_at += seconds

    def _arm(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self._expire)
        timer.daemon = True
        return timer

    def _expire(self) -> None:
        with self._lock:
            if self._closed:
                return
            left = self.expires_at - time.monotonic()
            if left > 0:  # extended meanwhile: wait for the rest
                self._timer = self._arm(left)
                self._timer.start()
                return
            self.expired = True
            for sock in self._socks:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._timer.cancel()
            for sock in self._socks:
                with suppress(OSError):
                    sock.close()
            self._socks.clear()


_active: ContextVar[Deadline | None] = ContextVar("network_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Bound everything network inside the block to `seconds`; an enclosing shorter deadline wins."""
    outer = _active.get()
    if outer is not None and outer.remaining() <= seconds:
        yield outer
        return
    current = Deadline(seconds)
    token = _active.set(current)
    current.start()
    try:
        yield current
    finally:
        _active.reset(token)
        current.close()


@contextmanager
def watching(sock: socket.socket, seconds: float) -> Iterator[Deadline]:
    """Bound one exchange on an already open socket to `seconds` (extendable with Deadline.extend).

    Unlike `deadline`, it sets no context variable, so it may live across a generator's yields.
    """
    budget = Deadline(seconds)
    budget.track(sock)
    budget.start()
    try:
        yield budget
    finally:
        budget.close()


def current_deadline() -> Deadline | None:
    return _active.get()


def bounded_timeout(timeout: float) -> float:
    """A socket timeout no longer than the time left (at least a millisecond: 0 means non-blocking)."""
    active = _active.get()
    if active is None:
        return timeout
    if active.expired:
        raise TimeoutError("deadline passed")
    return max(0.001, min(timeout, active.remaining()))


def track_socket(sock: socket.socket) -> None:
    """Called by net_policy.connect for every socket it opens."""
    active = _active.get()
    if active is not None:
        active.track(sock)
