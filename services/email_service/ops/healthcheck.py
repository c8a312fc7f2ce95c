"""Docker HEALTHCHECK for every role of the one image: `python -m email_service.ops.healthcheck`.

The role is read from PID 1's command line, so no settings are needed: the API (gunicorn) must
answer /healthz and Flower /healthcheck on the port their command names; worker and beat pass
(a broker round-trip such as `celery inspect ping` is too slow for a health probe). Under
`docker run --init` or compose `init: true`, PID 1 is an init wrapper (docker-init, tini,
dumb-init): its own options are skipped and the command it runs is probed.
"""

from __future__ import annotations

import http.client
import sys
from pathlib import Path

GUNICORN_DEFAULT_BIND = "127.0.0.1:8000"
FLOWER_DEFAULT_PORT = "5555"
INIT_WRAPPERS = frozenset({"docker-init", "tini", "tini-static", "dumb-init"})


def unwrap_init(argv: list[str]) -> list[str]:
    """The command an init wrapper runs: its name, its options and a `--` separator dropped."""
    while argv and Path(argv[0]).name in INIT_WRAPPERS:
        rest = argv[1:]
        while rest and rest[0].startswith("-") and rest[0] != "--":
            rest = rest[1:]
        argv = rest[1:] if rest[:1] == ["--"] else rest
    return argv


def _option(argv: list[str], *names: str) -> str | None:
    """Value of `-b X`, `--bind X` or `--bind=X` style options; the last one wins."""
    found = None
    for index, arg in enumerate(argv):
        for name in names:
            if arg == name and index + 1 < len(argv):
                found = argv[index + 1]
            elif arg.startswith(name + "="):
                found = arg.split("=", 1)[1]
    return found


def probe_target(argv: list[str]) -> tuple[str, int, str] | None:
    """(host, port, path) that proves this role healthy, or None for roles without an HTTP port."""
    argv = unwrap_init(argv)
    programs = {Path(arg).name for arg in argv[:2]}
    if "gunicorn" in programs:
        host, _, port = (_option(argv, "-b", "--bind") or GUNICORN_DEFAULT_BIND).rpartition(":")
        return _local(host), int(port), "/healthz"
    if "celery" in programs and "flower" in argv:
        port = _option(argv, "--port") or FLOWER_DEFAULT_PORT
        return _local(_option(argv, "--address") or ""), int(port), "/healthcheck"
    return None


def _local(host: str) -> str:
    return "127.0.0.1" if host in {"", "0.0.0.0", "::", "[::]"} else host  # noqa: S104 - mapped, not bound


def main(cmdline: Path = Path("/proc/1/cmdline")) -> int:
    """0 when healthy (or nothing to probe), 1 otherwise: Docker's HEALTHCHECK convention."""
    raw = cmdline.read_bytes()
    target = probe_target([part.decode() for part in raw.split(b"\0") if part])
    if target is None:
        return 0
    host, port, path = target
    conn = http.client.HTTPConnection(host, port, timeout=3)
    try:
        conn.request("GET", path)
        return 0 if conn.getresponse().status == 200 else 1
    except OSError:
        return 1
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
