"""`make run` stops whole on Ctrl-C: every process it started exits, nothing keeps a port.

Ctrl-C reaches the terminal's whole process group. When the children shared devserver's group,
gunicorn and Celery got the SIGINT directly and then devserver's SIGTERM: a gunicorn gthread worker
re-entered its shutdown and hung on its own lock (left behind holding port 8000, so the next
`make run` could not bind), and a Celery worker took the second signal as a cold shutdown.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.servers.redis_server import free_port

START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0


def _children(pid: int) -> set[int]:
    """Every live descendant of pid, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"make run exited ({proc.returncode}) while starting:\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("the API never answered /healthz")


def test_ctrl_c_stops_every_process_make_run_started(tmp_path: Path) -> None:
    api_port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "EMAIL_SERVICE_VAR": str(tmp_path / "var"),
        "API_PORT": str(api_port),
        "FLOWER_PORT": str(free_port()),
        "DEV_REDIS_PORT": str(free_port()),
        "SANDBOX_IMAP_PORT": str(free_port()),
        "SANDBOX_SMTP_PORT": str(free_port()),
    }
    log = tmp_path / "devserver.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "email_service.devserver"],
            env=env,
            cwd=tmp_path,
            start_new_session=True,  # its own group, as a terminal gives `make run`
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    started: set[int] = set()
    try:
        _wait_healthy(api_port, proc, log)
        time.sleep(2)  # Celery's pool children and gunicorn's workers are forked by now
        started = _children(proc.pid)
        assert len(started) >= 6, started  # redis, sandbox, gunicorn + workers, worker, beat, flower
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
        proc.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in started):
            time.sleep(0.2)
        left = sorted(pid for pid in started if _alive(pid))
        assert not left, [Path(f"/proc/{pid}/cmdline").read_bytes()[:120] for pid in left]
        assert not _listening(api_port), "a process still holds the API port"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in started | _children(proc.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
