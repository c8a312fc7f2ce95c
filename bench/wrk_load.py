"""Drive GET requests with wrk (a native load generator) and read its summary back as a dict.

A Python client saturates near 2,600 req/s on this machine, below what gunicorn serves, so it would
measure itself; wrk does not. A generated Lua script adds the headers, rotates over a list of paths
(so a "get one message" run varies its ids) and prints one JSON line from wrk's `done` hook.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

MARK = "WRKJSON "
_LUA = """
local paths = {%(paths)s}
local headers = {%(headers)s}
local counter = 0
for name, value in pairs(headers) do wrk.headers[name] = value end
if #paths == 1 then wrk.path = paths[1] end

init = function(args)
  counter = math.random(#paths)
end

if #paths > 1 then
  request = function()
    counter = counter %% #paths + 1
    return wrk.format("GET", paths[counter])
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,' ..
    '"timeout":%%d,"p50_us":%%d,"p99_us":%%d,"mean_us":%%.1f,"max_us":%%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_script(paths: list[str], headers: dict[str, str]) -> str:
    """The wrk script for these paths (rotated per request when more than one) and headers."""
    return _LUA % {
        "paths": ", ".join(_lua_string(p) for p in paths),
        "headers": ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()),
        "mark": MARK,
    }


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install -y wrk)")
    return found


def run_wrk(
    port: int, paths: list[str], headers: dict[str, str], connections: int, seconds: float, threads: int = 2
) -> dict[str, Any]:
    """One wrk run: requests, req/s, p50/p99/mean/max in ms, errors (HTTP status >= 400 + socket errors)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(paths, headers))
    try:
        cmd = [
            wrk_binary(),
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            script.name,
            f"http://127.0.0.1:{port}{paths[0]}",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True)
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith(MARK))
    raw = json.loads(line[len(MARK) :])
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    duration = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / duration, 1) if duration else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "mean_ms": round(raw["mean_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": raw["status"] + socket_errors,
        "http_errors": raw["status"],  # wrk counts status >= 400
        "socket_errors": socket_errors,
    }
