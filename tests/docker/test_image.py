"""The image built with BuildKit and the legacy builder, each role run against PostgreSQL and Redis.

`make docker-check` runs this (never `make test`): it needs a container engine, which
tests/docker/engine.py starts, and base images, which it makes when no registry has them.
"""

from __future__ import annotations

import imaplib
import json
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest

from tests.docker import roles
from tests.docker.conftest import SECRETS, SUMMARY, Backing, Images, unique
from tests.docker.engine import DEBIAN_IMAGE, docker
from tests.servers.redis_server import free_port

APP_UID = "10001"
CREATE_TOKEN = ("email-service", "create-token")


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _admin(env: dict[str, str], images: Images, env_file: Path, *argv: str) -> str:
    """A one-shot admin command in the image (`docker run --rm`); its stdout."""
    return docker(env, "run", "--rm", "--network=host", "--env-file", str(env_file), images.app, *argv)


@pytest.fixture(scope="module")
def app_env_file(backing: Backing, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return roles.env_file(tmp_path_factory.mktemp("env") / "app.env", backing.env)


def test_image_runs_as_uid_10001(docker_env: dict[str, str], images: Images) -> None:
    assert docker(docker_env, "run", "--rm", "--network=none", images.app, "id", "-u") == APP_UID
    assert docker(docker_env, "image", "inspect", "-f", "{{.Config.User}}", images.app) == "app:app"


def test_image_ships_no_tests_git_or_egg_info(docker_env: dict[str, str], images: Images) -> None:
    """Nothing of the build context but the installed package: no /src, tests, .git or egg-info.

    The __pycache__ in site-packages is pip's own compile at install time, wanted: uid 10001
    cannot write bytecode there. The context's caches stay out (.dockerignore, builder stage).
    """
    site = "/opt/venv/lib/python3*/site-packages"
    script = (
        "find / -xdev -name .git 2>/dev/null;"
        f" find {site}/email_service {site}/numpy {site}/scipy {site}/sklearn -type d -name tests;"
        " find / -xdev -name '*.egg-info' -path '*email_service*' 2>/dev/null;"
        " ls -d /src /app/tests /app/services 2>/dev/null; true"
    )
    found = docker(docker_env, "run", "--rm", "--network=none", images.app, "sh", "-c", script)
    assert found == ""


def test_admin_commands_migrate_and_create_token(
    docker_env: dict[str, str], images: Images, app_env_file: Path
) -> None:
    assert "newest revision" in _admin(docker_env, images, app_env_file, "email-service", "migrate")
    token = _admin(docker_env, images, app_env_file, *CREATE_TOKEN, "--tenant", "t1", "--user", "u1")
    assert token.count(".") == 2, token


def test_long_running_roles_are_healthy(
    docker_env: dict[str, str], images: Images, app_env_file: Path, containers: list[str]
) -> None:
    api_port, flower_port = free_port(), free_port()
    commands = {
        "api": roles.command("api", **{"0.0.0.0:8000": f"127.0.0.1:{api_port}"}),
        "worker": roles.command("worker-sync", **{"4": "1"}),
        "beat": roles.command("beat"),
        "flower": roles.command(
            "flower", **{"--port=5555": f"--port={flower_port}", "--address=0.0.0.0": "--address=127.0.0.1"}
        ),
    }
    names = {role: unique(role) for role in commands}
    for role, argv in commands.items():
        containers.append(names[role])
        roles.run(docker_env, names[role], images.app, argv, "--env-file", str(app_env_file), "--init")
    for role, name in names.items():
        SUMMARY["healthy"][role] = {"after_seconds": roles.wait_healthy(docker_env, name)}
        assert roles.inspect(docker_env, name)["State"]["Health"]["Status"] == "healthy"
        assert docker(docker_env, "exec", name, "id", "-u") == APP_UID

    token = _admin(docker_env, images, app_env_file, *CREATE_TOKEN, "--tenant", "t2", "--user", "u2")
    api = f"http://127.0.0.1:{api_port}"
    assert _status(f"{api}/healthz") == 200
    assert _status(f"{api}/readyz") == 200
    assert _status(f"{api}/api/accounts") == 401
    assert _status(f"{api}/api/accounts", {"Authorization": f"Bearer {token}"}) == 200
    for line in roles.logs(docker_env, names["api"]).splitlines():
        json.loads(line)  # LOG_JSON: gunicorn's lines and the app's alike

    flower = f"http://127.0.0.1:{flower_port}"
    auth = {"Authorization": "Basic " + b64encode(SECRETS["FLOWER_BASIC_AUTH"].encode()).decode()}
    assert _status(f"{flower}/") == 401
    assert _status(f"{flower}/", auth) == 200
    assert _status(f"{flower}/healthcheck", auth) == 200

    assert "ready." in roles.logs(docker_env, names["worker"])
    assert docker(docker_env, "exec", names["beat"], "ls", "/app/var").startswith("celerybeat-schedule")

    for role, name in names.items():
        docker(docker_env, "stop", "-t", "30", name, timeout=60)
        state = roles.inspect(docker_env, name)["State"]
        SUMMARY["healthy"][role]["exit_code"] = state["ExitCode"]
        assert state["ExitCode"] == 0, (role, roles.logs(docker_env, name)[-2000:])


def _imap_login(port: int) -> None:
    users = roles.compose()["configs"]["dovecot-users"]["content"]
    user, _, password = users.strip().partition(":{PLAIN}")
    with imaplib.IMAP4("127.0.0.1", port) as imap:
        imap.login(user, password)
        assert imap.select("INBOX")[0] == "OK"


def test_compose_dovecot_service_restarts(
    docker_env: dict[str, str], images: Images, containers: list[str], tmp_path: Path
) -> None:
    """The compose dovecot image (its inline Dockerfile), configured as compose does, survives a restart."""
    service = roles.compose()["services"]["dovecot"]
    context = tmp_path / "dovecot"
    context.mkdir()
    inline = service["build"]["dockerfile_inline"]
    base = images.bases[DEBIAN_IMAGE]
    (context / "Dockerfile").write_text(inline.replace(f"FROM {DEBIAN_IMAGE}", f"FROM {base}"))
    tag = "email-service-dovecot:check"
    buildkit = {**docker_env, "DOCKER_BUILDKIT": "1"}  # as Compose v2 builds
    docker(buildkit, "build", "--network=host", "-t", tag, str(context), timeout=900)

    # Host networking: the compose config, listening on a free loopback port instead of 143.
    port = free_port()
    configs = roles.compose()["configs"]
    conf = configs["dovecot-conf"]["content"] + (
        f"listen = 127.0.0.1\nservice imap-login {{\n  inet_listener imap {{\n    port = {port}\n  }}\n}}\n"
    )
    mounts: list[str] = []
    for item in service["configs"]:
        path = tmp_path / item["source"]
        path.write_text(conf if item["source"] == "dovecot-conf" else configs[item["source"]]["content"])
        mounts += ["-v", f"{path}:{item['target']}:ro"]
    name = unique("dovecot")
    containers.append(name)
    probe = f"exec 3<>/dev/tcp/127.0.0.1/{port}"
    health = ["--health-cmd", f"bash -c '{probe}'", "--restart", service["restart"]]
    roles.run(docker_env, name, tag, service["command"], *health, *mounts)
    SUMMARY["healthy"]["dovecot"] = {"after_seconds": roles.wait_healthy(docker_env, name)}
    _imap_login(port)
    first_start = roles.inspect(docker_env, name)["State"]["StartedAt"]

    docker(docker_env, "restart", "-t", "10", name, timeout=60)
    SUMMARY["healthy"]["dovecot"]["after_restart_seconds"] = roles.wait_healthy(docker_env, name)
    state = roles.inspect(docker_env, name)["State"]
    assert state["Running"] and state["StartedAt"] != first_start
    _imap_login(port)


def test_legacy_builder_builds_the_same_image(docker_env: dict[str, str], legacy_image: str) -> None:
    assert set(SUMMARY["build_seconds"]) == {"buildkit", "legacy"}
    assert docker(docker_env, "run", "--rm", "--network=none", legacy_image, "id", "-u") == APP_UID
    assert docker(docker_env, "image", "inspect", "-f", "{{.Config.User}}", legacy_image) == "app:app"
