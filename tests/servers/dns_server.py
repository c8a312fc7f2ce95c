"""A real DNS responder (UDP on 127.0.0.1, a free port) built on dnspython's message API.

Tests set `zone` to {(name, type): [rdata text, ...]}; names in or under `silent` never get an answer (the
autoconfig time bound), names in `servfail` get SERVFAIL, names in `garbage` get bytes that are not
DNS; a name the zone has with another type answers NOERROR with no records, any other name NXDOMAIN.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

HOST = "127.0.0.1"
Zone = dict[tuple[str, str], list[str]]


def _key(name: str) -> str:
    return name.lower().rstrip(".")


def _under(name: str, domains: set[str]) -> bool:
    return any(name == d or name.endswith("." + d) for d in domains)


class DnsTestServer:
    def __init__(self) -> None:
        self.zone: Zone = {}
        self.silent: set[str] = set()
        self.servfail: set[str] = set()
        self.garbage: set[str] = set()
        self.queries: list[tuple[str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((HOST, 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="dns-test-server", daemon=True)

    @property
    def address(self) -> str:
        """The value for AUTOCONFIG_NAMESERVERS."""
        return f"{HOST}:{self.port}"

    def clear(self) -> None:
        self.zone, self.queries = {}, []
        self.silent, self.servfail, self.garbage = set(), set(), set()

    def __enter__(self) -> DnsTestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self._answer(wire)
            if reply is not None:
                self._sock.sendto(reply, peer)

    def _answer(self, wire: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # a malformed query gets no answer, as from a real server
            return None
        question = query.question[0]
        name, rdtype = _key(question.name.to_text()), dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        if _under(name, self.silent):
            return None
        if _under(name, self.garbage):
            return wire[:2] + b"\x81\x80\xff\xff not dns at all"
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if _under(name, self.servfail):
            response.set_rcode(dns.rcode.SERVFAIL)
        elif (name, rdtype) in self.zone:
            records = self.zone[(name, rdtype)]
            response.answer.append(dns.rrset.from_text_list(question.name, 300, "IN", rdtype, records))
        elif not any(n == name for n, _ in self.zone):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()
