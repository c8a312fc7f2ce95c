"""A small keep-alive HTTP/1.1 load driver on asyncio (loopback only): N connections for T seconds."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    """Latencies in seconds of the answered requests, and the count of failures."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        ordered = sorted(self.latencies)
        count = len(ordered)

        def pct(p: float) -> float:
            return round(ordered[min(count - 1, int(p * count))] * 1000, 2) if count else 0.0

        return {
            "requests": count,
            "rps": round(count / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if count else 0.0,
            "errors": self.errors,
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _connection(port: int, request: bytes, deadline: float, out: LoadResult) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                writer.write(request)
                status, body = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                out.errors += 1
                out.error_samples.append(repr(exc)[:200])
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if status == 200:
                out.latencies.append(time.perf_counter() - started)
            else:
                out.errors += 1
                if len(out.error_samples) < 5:
                    out.error_samples.append(f"{status}: {body[:200]!r}")
    finally:
        writer.close()


def run_load(port: int, path: str, headers: dict[str, str], connections: int, seconds: float) -> LoadResult:
    """Drive GET path over `connections` keep-alive connections for `seconds`; a fresh loop per run."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()
    out = LoadResult()

    async def main() -> None:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(_connection(port, request, deadline, out) for _ in range(connections)))
        out.seconds = time.perf_counter() - started

    asyncio.run(main())
    return out
