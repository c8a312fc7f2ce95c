"""Fault-injection fixtures: `tcp_proxy(port)` puts a TcpProxy in front of a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.reliability.proxy import TcpProxy

ProxyFactory = Callable[..., TcpProxy]


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
