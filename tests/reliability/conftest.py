"""Fault-injection fixtures and the reliability summary.

`tcp_proxy(port)` puts a TcpProxy in front of a real server; `scenario` records a scenario's lost and
duplicated counts; `private_broker` gives a test its own Redis (restartable, no other worker reads
it); `spawn_worker` starts dedicated Celery worker processes on it. At the end of the run the summary
prints one line per scenario and a JSON line (see scoreboard.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ServerSet, apply_environment
from tests.reliability.proxy import TcpProxy
from tests.reliability.scoreboard import AUDIT_FILE, SCOREBOARD, ScenarioCount
from tests.reliability.worker_proc import WorkerProcess
from tests.servers.redis_server import RedisServer

ProxyFactory = Callable[..., TcpProxy]
WorkerFactory = Callable[..., WorkerProcess]


@pytest.fixture
def tcp_proxy() -> Iterator[ProxyFactory]:
    """Factory: tcp_proxy(target_port, target_host="127.0.0.1"); every proxy is closed afterwards."""
    proxies: list[TcpProxy] = []

    def make(target_port: int, target_host: str = "127.0.0.1") -> TcpProxy:
        proxy = TcpProxy(target_port, target_host)
        proxies.append(proxy)
        return proxy

    try:
        yield make
    finally:
        for proxy in proxies:
            proxy.close()


@pytest.fixture
def scenario(request: pytest.FixtureRequest) -> ScenarioCount:
    """This test's entry in the reliability summary."""
    return SCOREBOARD.scenario(request.node.nodeid)


@pytest.fixture
def private_broker(servers: ServerSet) -> Iterator[RedisServer]:
    """A Redis of this test's own as broker and result backend, for this process and its workers."""
    redis = RedisServer().start()
    os.environ["REDIS_URL"] = redis.url
    apply_environment()
    try:
        yield redis
    finally:
        os.environ["REDIS_URL"] = servers.redis_url
        apply_environment()
        redis.cleanup()


@pytest.fixture
def spawn_worker(servers: ServerSet, private_broker: RedisServer, tmp_path: Path) -> Iterator[WorkerFactory]:
    """Factory: spawn_worker("sync", **env) starts a one-process prefork worker on the private broker."""
    workers: list[WorkerProcess] = []

    def make(queues: str, **env: str) -> WorkerProcess:
        full_env = {**os.environ, **servers.env, "REDIS_URL": private_broker.url, **env}
        log = tmp_path / f"worker-{len(workers)}.log"
        worker = WorkerProcess(queues, full_env, log).start()
        workers.append(worker)
        return worker

    try:
        yield make
    finally:
        for worker in workers:
            worker.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the scenario lines and the JSON summary when any scenario ran."""
    if not SCOREBOARD.counts:
        return
    outcomes: dict[str, str] = {}
    for key, reports in terminalreporter.stats.items():
        for report in reports:
            nodeid, when = getattr(report, "nodeid", None), getattr(report, "when", None)
            if not nodeid or when not in ("setup", "call", "teardown"):
                continue
            if key in ("failed", "error"):
                outcomes[nodeid] = "failed"
            elif key == "passed" and when == "call":
                outcomes.setdefault(nodeid, "passed")
    audit = [outcome for nodeid, outcome in outcomes.items() if nodeid.startswith(AUDIT_FILE)]
    audit_failures = None if not audit else sum(1 for outcome in audit if outcome != "passed")
    terminalreporter.section("reliability")
    for line in SCOREBOARD.lines(outcomes, audit_failures):
        terminalreporter.write_line(line)
