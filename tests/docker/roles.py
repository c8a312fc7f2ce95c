"""Running the image's roles as docker-compose.test.yml does, on host networking with free ports."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from tests.docker.engine import ROOT, client, docker

COMPOSE = ROOT / "docker-compose.test.yml"
# Health probes every 2 s instead of the image's 30 s; start-period failures do not count.
FAST_HEALTH = ["--health-interval=2s", "--health-timeout=5s", "--health-start-period=120s"]


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def command(service: str, **replace: str) -> list[str]:
    """The compose service's command with some arguments swapped (container ports for free host ports)."""
    return [replace.get(arg, arg) for arg in compose()["services"][service]["command"]]


def env_file(path: Path, env: dict[str, str]) -> Path:
    """Settings in a file, so secrets stay off docker's command line."""
    path.write_text("".join(f"{name}={value}\n" for name, value in env.items()))
    return path


def run(env: dict[str, str], name: str, image: str, argv: list[str], *options: str) -> str:
    """`docker run -d` on the host network; the container id."""
    return docker(env, "run", "-d", "--name", name, "--network=host", *FAST_HEALTH, *options, image, *argv)


def inspect(env: dict[str, str], name: str) -> dict[str, Any]:
    data = json.loads(docker(env, "inspect", name))
    assert isinstance(data, list)
    return dict(data[0])


def wait_healthy(env: dict[str, str], name: str, timeout: float = 180) -> float:
    """Seconds until `docker inspect` reports healthy; fails when it turns unhealthy or exits."""
    started = time.monotonic()
    while True:
        state = inspect(env, name)["State"]
        status = state.get("Health", {}).get("Status")
        if status == "healthy":
            return round(time.monotonic() - started, 1)
        if status == "unhealthy" or not state["Running"] or time.monotonic() - started > timeout:
            logs = docker(env, "logs", "--tail", "40", name, check=False)
            raise AssertionError(f"{name}: {status}, running={state['Running']}\n{logs}")
        time.sleep(1)


def logs(env: dict[str, str], name: str) -> str:
    """stdout and stderr of a container, in one string."""
    result = subprocess.run([client(), "logs", name], env=env, capture_output=True, text=True, check=False)
    return result.stdout + result.stderr
