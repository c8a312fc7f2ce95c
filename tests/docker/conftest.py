"""Session fixtures of `make docker-check`: the engine, base images, both builds, PostgreSQL and Redis."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.docker import engine
from tests.servers.postgres import PostgresDatabase, create_test_database, drop_test_database
from tests.servers.redis_server import RedisServer

SUMMARY: dict[str, Any] = {"build_seconds": {}, "image_size_mb": {}, "healthy": {}}
BUILDERS = {"buildkit": "1", "legacy": "0"}
# Container-side secrets of this check only (production-strength, never reused anywhere).
SECRETS = {
    "JWT_SECRET": "docker-check-jwt-secret-" + "z" * 24,
    "ENCRYPTION_KEYS": "check1:ZG9ja2VyLWNoZWNrLW9ubHkta2V5LTAxMjM0NTY3ODk=",
    "FLOWER_BASIC_AUTH": "flower:docker-check-pw",
}


@dataclass
class Images:
    built: dict[str, str]  # builder -> tag
    bases: dict[str, str]  # registry name -> name used

    @property
    def app(self) -> str:
        return self.built["buildkit"]


@dataclass
class Backing:
    db: PostgresDatabase
    redis: RedisServer
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def docker_env() -> Iterator[dict[str, str]]:
    with engine.engine() as env:
        yield env


def _build(env: dict[str, str], builder: str, python_image: str, tag: str) -> float:
    """One uncached build with the given builder; its wall time in seconds."""
    cmd = [*engine.NICE, engine.client(), "build", "--no-cache", "--network=host",
           "--build-arg", f"PYTHON_IMAGE={python_image}", "-t", tag, str(engine.ROOT)]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(
        cmd, env={**env, "DOCKER_BUILDKIT": BUILDERS[builder]}, capture_output=True, text=True, timeout=1800
    )
    output = (result.stdout + result.stderr)[-2500:]
    assert result.returncode == 0, f"{builder} build failed:\n{output}"
    return round(time.monotonic() - started, 1)


def _built(env: dict[str, str], builder: str, bases: dict[str, str]) -> str:
    """The image `builder` builds (timed into SUMMARY); under DOCKER_CHECK_REUSE one already built."""
    tag = f"email-service:check-{builder}"
    if os.environ.get("DOCKER_CHECK_REUSE") and engine.docker(env, "images", "-q", tag):
        SUMMARY["build_seconds"][builder] = "reused"  # iterating on the checks, not measuring
    else:
        SUMMARY["build_seconds"][builder] = _build(env, builder, bases[engine.PYTHON_IMAGE], tag)
    size = int(engine.docker(env, "image", "inspect", "-f", "{{.Size}}", tag))
    SUMMARY["image_size_mb"][builder] = round(size / 1e6, 1)
    return tag


@pytest.fixture(scope="session")
def images(docker_env: dict[str, str]) -> Images:
    """The BuildKit image every role runs from (Compose v2 builds with BuildKit)."""
    bases = engine.base_images(docker_env)
    SUMMARY["base_images"] = bases
    return Images({"buildkit": _built(docker_env, "buildkit", bases)}, bases)


@pytest.fixture(scope="session")
def legacy_image(docker_env: dict[str, str], images: Images) -> str:
    """The legacy builder's image; its tests run last, since on vfs this build is the slow one."""
    images.built["legacy"] = _built(docker_env, "legacy", images.bases)
    return images.built["legacy"]


@pytest.fixture(scope="session")
def backing() -> Iterator[Backing]:
    """A private PostgreSQL database (with the app and system roles) and Redis, on 127.0.0.1."""
    db = create_test_database()
    redis = RedisServer().start()
    env = {
        "DATABASE_URL": db.app_url,
        "MIGRATION_DATABASE_URL": db.admin_url,
        "SYSTEM_DATABASE_URL": db.system_url,
        "REDIS_URL": redis.url,
        **SECRETS,
    }
    try:
        yield Backing(db, redis, env)
    finally:
        redis.cleanup()
        drop_test_database(db)


@pytest.fixture(scope="session")
def containers(docker_env: dict[str, str]) -> Iterator[list[str]]:
    """Names of containers to remove at the end; each run gets its own prefix."""
    names: list[str] = []
    yield names
    for name in names:
        engine.docker(docker_env, "rm", "-f", "-v", name, check=False)


def unique(prefix: str) -> str:
    return f"es-check-{prefix}-{uuid.uuid4().hex[:6]}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY["build_seconds"]:
        terminalreporter.write_line("docker-check " + json.dumps(SUMMARY, sort_keys=True))
