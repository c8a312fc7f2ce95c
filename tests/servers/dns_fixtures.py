"""Pytest plugin: one real DNS test server per session (the suite's AUTOCONFIG_NAMESERVERS), so no
test asks the machine's resolver; `dns_zone` gives a test the server with its zone emptied after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.dns_server import DnsTestServer


@pytest.fixture(scope="session")
def dns_server() -> Iterator[DnsTestServer]:
    with DnsTestServer() as server:
        yield server


@pytest.fixture
def dns_zone(dns_server: DnsTestServer) -> Iterator[DnsTestServer]:
    dns_server.clear()
    yield dns_server
    dns_server.clear()
