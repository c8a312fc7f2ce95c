"""The SMTP test server in a process of its own, as a real local MTA would be.

In the benchmark process its threads would share one GIL with whatever that process times (the
publisher, the raw client), so the server's speed would depend on the path being measured.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Mapping
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any

STARTUP_SECONDS = 30


def _serve(users: dict[str, str], ready: Any, delivered: Synchronized[int], stop: Event) -> None:
    from tests.servers.smtp_server import SmtpTestServer

    with SmtpTestServer(users) as server:
        ready.put((server.host, server.port, server.cert_pem))
        while not stop.wait(0.001):
            delivered.value = len(server.messages)


class SmtpServerProcess:
    """host, port, cert_pem and `delivered` (messages accepted so far) of a server in a child process."""

    def __init__(self, users: Mapping[str, str]) -> None:
        context = mp.get_context("spawn")  # a clean interpreter: no inherited DB pools or threads
        ready = context.Queue()
        self._delivered = context.Value("q", 0)
        self._stop = context.Event()
        self._process = context.Process(
            target=_serve, args=(dict(users), ready, self._delivered, self._stop), daemon=True
        )
        self._process.start()
        self.host, self.port, self.cert_pem = ready.get(timeout=STARTUP_SECONDS)

    @property
    def delivered(self) -> int:
        return int(self._delivered.value)

    def __enter__(self) -> SmtpServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
