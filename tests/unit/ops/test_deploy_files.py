"""Dockerfile, docker-compose.test.yml, .env.example and PHASE_7_CELERY.md checked against the code.

No Docker engine runs here, so the files are parsed and compared with what the code really does:
the commands `make run` starts, the queues Celery routes to, and the variables config.py reads.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from email_service import devserver
from email_service.core import config
from email_service.ops import healthcheck
from email_service.tasks.celery_app import QUEUES, ROUTES

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.test.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
GUIDE = ROOT / "PHASE_7_CELERY.md"

WORKER_QUEUES = {
    "worker-sync": {"sync"},
    "worker-send": {"send"},
    "worker-delete-spam": {"delete", "spam"},
    "worker-periodic": {"periodic"},
    "worker-webhooks": {"webhooks"},
}
APP_SERVICES = {"api", "beat", "flower", *WORKER_QUEUES}
BACKING_SERVICES = {"redis-broker", "redis-results", "postgres", "dovecot", "migrate"}
# Options whose values legitimately differ between `make run` and a container (addresses, ports,
# paths, and per-worker queue/concurrency/name, which are checked on their own below).
VARIABLE_OPTIONS = {"-b", "-s", "-Q", "-c", "-n"}
VARIABLE_PREFIXES = ("--port=", "--address=")


# ---------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def normalise(argv: list[str]) -> list[str]:
    """Program by basename; values of address/port/path/queue options replaced by a placeholder."""
    out = [Path(argv[0]).name]
    skip_next = False
    for arg in argv[1:]:
        if skip_next:
            out.append("<value>")
            skip_next = False
        elif arg in VARIABLE_OPTIONS:
            out.append(arg)
            skip_next = True
        elif arg.startswith(VARIABLE_PREFIXES):
            out.append(arg.split("=", 1)[0] + "=<value>")
        else:
            out.append(arg)
    return out


def option(argv: list[str], name: str) -> str:
    assert name in argv, f"{name} missing from {argv}"
    return argv[argv.index(name) + 1]


def published_ports(service: dict[str, Any]) -> set[int]:
    """Host ports of `[ADDRESS:]HOST:CONTAINER` entries."""
    return {int(str(p).split(":")[-2]) for p in service.get("ports", [])}


def config_env_names() -> set[str]:
    """Every NAME in `r.get("NAME", ...)` / `r.text("NAME", ...)` of config.py."""
    tree = ast.parse(Path(config.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"get", "text"}
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "r"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def env_example() -> dict[str, str]:
    pairs = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not NAME=value: {line!r}"
            pairs[name.strip()] = value
    return pairs


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    result = []
    for line in logical:
        keyword, _, rest = line.strip().partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


# ---------------------------------------------------------------------------------------------------
# docker-compose.test.yml
# ---------------------------------------------------------------------------------------------------


def test_compose_has_every_service() -> None:
    assert set(services()) >= APP_SERVICES | BACKING_SERVICES


def test_compose_ports() -> None:
    svc = services()
    assert 6379 in published_ports(svc["redis-broker"])
    assert 6380 in published_ports(svc["redis-results"])
    assert "6380" in svc["redis-results"]["command"]
    assert 5555 in published_ports(svc["flower"])
    assert 8000 in published_ports(svc["api"])
    assert 5432 in published_ports(svc["postgres"])


def test_backing_services_publish_on_loopback_only() -> None:
    """The broker Redis has no password: nothing but this host may reach it (nor PostgreSQL, IMAP)."""
    svc = services()
    for name in ("redis-broker", "redis-results", "postgres", "dovecot"):
        for entry in svc[name].get("ports", []):
            assert str(entry).startswith("127.0.0.1:"), (name, entry)


def test_dovecot_restarts_without_installing_or_adding_users() -> None:
    """A second start used to fail: `useradd: user 'vmail' already exists`, and apt-get ran every time."""
    dovecot = services()["dovecot"]
    command = " ".join(dovecot["command"])
    assert "apt-get" not in command and "useradd" not in command
    layer = dovecot["build"]["dockerfile_inline"]
    assert "dovecot-imapd" in layer and "useradd" in layer
    assert dovecot["command"][:2] == ["dovecot", "-F"]


def test_workers_consume_every_routed_queue_once() -> None:
    svc = services()
    seen: list[str] = []
    for name, expected in WORKER_QUEUES.items():
        command = svc[name]["command"]
        queues = option(command, "-Q").split(",")
        assert set(queues) == expected, name
        seen.extend(queues)
        assert option(command, "-n").endswith("@%h")
    assert sorted(seen) == sorted(QUEUES), "each queue has exactly one worker service"
    assert {route["queue"] for route in ROUTES.values()} <= set(seen)
    names = [option(svc[name]["command"], "-n") for name in WORKER_QUEUES]
    assert len(set(names)) == len(names), "worker node names must be unique"


def test_commands_equal_make_run_commands() -> None:
    dev = {role: normalise(cmd) for role, cmd in devserver._commands().items()}
    svc = services()
    assert normalise(svc["api"]["command"]) == dev["api"]
    assert normalise(svc["beat"]["command"]) == dev["beat"]
    assert normalise(svc["flower"]["command"]) == dev["flower"]
    for name in WORKER_QUEUES:
        assert normalise(svc[name]["command"]) == dev["worker"], name
    assert svc["migrate"]["command"] == ["email-service", "migrate"]


def test_container_addresses_are_reachable_from_outside() -> None:
    svc = services()
    assert option(svc["api"]["command"], "-b") == "0.0.0.0:8000"
    assert "--address=0.0.0.0" in svc["flower"]["command"]
    assert "--port=5555" in svc["flower"]["command"]


def test_worker_concurrency_matches_the_guide_table() -> None:
    rows = re.findall(r"^\|\s*`(worker-[a-z-]+)`\s*\|[^|]*\|\s*(\d+)\s*\|", GUIDE.read_text(), re.M)
    table = {name: int(count) for name, count in rows}
    assert set(table) == set(WORKER_QUEUES), "PHASE_7_CELERY.md needs one concurrency row per worker"
    for name in WORKER_QUEUES:
        assert int(option(services()[name]["command"], "-c")) == table[name], name


def test_everything_waits_for_migrate_and_migrate_for_postgres() -> None:
    svc = services()
    for name in APP_SERVICES:
        deps = svc[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["redis-broker"]["condition"] == "service_healthy", name
    assert svc["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert svc["migrate"]["restart"] == "no"


def test_compose_environment_is_a_valid_configuration_wired_to_the_services() -> None:
    svc = services()
    env = {k: str(v) for k, v in svc["api"]["environment"].items()}
    known = config_env_names()
    assert set(env) <= known, f"unknown variables: {set(env) - known}"
    for name in APP_SERVICES | {"migrate"}:
        assert svc[name]["environment"] == svc["api"]["environment"], name
    settings = config.load_settings(env)
    assert settings.broker_url == "redis://redis-broker:6379/0"
    assert settings.result_backend_url == "redis://redis-results:6380/0"
    assert settings.database_url.startswith("postgresql+psycopg://email_app:")
    assert settings.migration_database_url.startswith("postgresql+psycopg://email_owner:")
    assert settings.flower_basic_auth
    config.load_settings({**env, "APP_ENV": "production"})  # secrets strong enough for production too


def test_app_role_is_subject_to_row_level_security() -> None:
    data = compose()
    sql = data["configs"]["postgres-app-role"]["content"]
    assert re.search(r"CREATE ROLE email_app LOGIN NOSUPERUSER NOBYPASSRLS", sql)
    assert data["services"]["postgres"]["environment"]["POSTGRES_USER"] == "email_owner"


def test_dovecot_configuration_parses() -> None:
    doveconf = shutil.which("doveconf") or "/usr/bin/doveconf"
    assert Path(doveconf).exists(), "doveconf not installed (make test installs dovecot-imapd)"
    data = compose()
    assert data["services"]["dovecot"]["ports"] == ["127.0.0.1:10143:143"]
    conf = data["configs"]["dovecot-conf"]["content"]
    result = subprocess.run(
        [doveconf, "-n", "-c", "/dev/stdin"], input=conf, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "protocols = imap" in result.stdout


# ---------------------------------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_with_slim_python_runtime() -> None:
    instructions = dockerfile_instructions()
    froms = [args for kw, args in instructions if kw == "FROM"]
    assert len(froms) >= 2
    args = dict(a.split("=", 1) for kw, a in instructions if kw == "ARG" and "=" in a)
    final_base = froms[-1].split()[0]
    final_base = args.get(final_base.strip("${}"), final_base)
    assert final_base.startswith("python:3.11") and "slim" in final_base
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    runtime = instructions[last_from:]
    assert any(kw == "COPY" and "--from=builder" in a for kw, a in runtime)
    assert not any(kw == "RUN" and "pip install" in a for kw, a in runtime), "install in the builder"


def test_dockerfile_needs_no_registry_frontend() -> None:
    """A `# syntax=` line makes every BuildKit build fetch a frontend image from a registry."""
    assert not re.search(r"^#\s*syntax=", DOCKERFILE.read_text(), re.MULTILINE | re.IGNORECASE)


def test_build_context_is_allow_listed() -> None:
    """.dockerignore excludes everything, then lets in only what the Dockerfile copies."""
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {
        src.rstrip("/")
        for kw, args in dockerfile_instructions()
        if kw == "COPY" and "--from" not in args
        for src in args.split()[:-1]
    }
    assert copied <= allowed, copied - allowed
    assert {"services/**/__pycache__", "services/**/*.egg-info"} <= set(lines)


def test_dockerfile_runs_as_non_root() -> None:
    users = [args for kw, args in dockerfile_instructions() if kw == "USER"]
    assert users, "no USER instruction"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_dockerfile_healthcheck_uses_the_healthcheck_module() -> None:
    checks = [args for kw, args in dockerfile_instructions() if kw == "HEALTHCHECK"]
    assert len(checks) == 1
    cmd = json.loads(checks[0].split("CMD", 1)[1])
    assert cmd == ["python", "-m", "email_service.ops.healthcheck"]


def test_dockerfile_default_command_is_the_api() -> None:
    cmds = [args for kw, args in dockerfile_instructions() if kw == "CMD"]
    argv = json.loads(cmds[-1])
    assert normalise(argv) == normalise(devserver._commands()["api"])
    assert argv == services()["api"]["command"]


# ---------------------------------------------------------------------------------------------------
# healthcheck.py
# ---------------------------------------------------------------------------------------------------


def test_probe_targets_per_role() -> None:
    svc = services()
    # Under Docker, PID 1 of a console script is "python /opt/venv/bin/gunicorn ...".
    api = ["/opt/venv/bin/python", "/opt/venv/bin/gunicorn", *svc["api"]["command"][1:]]
    assert healthcheck.probe_target(api) == ("127.0.0.1", 8000, "/healthz")
    dev_api = devserver._commands()["api"]
    assert healthcheck.probe_target(dev_api) == ("127.0.0.1", devserver.API_PORT, "/healthz")
    flower = ["/opt/venv/bin/python", *svc["flower"]["command"]]
    assert healthcheck.probe_target(flower) == ("127.0.0.1", 5555, "/healthcheck")
    assert healthcheck.probe_target(["gunicorn", "--bind=10.1.2.3:9000", "x:app"]) == (
        "10.1.2.3",
        9000,
        "/healthz",
    )
    for init in (["/sbin/docker-init", "--"], ["tini", "-s", "--"], ["/usr/bin/dumb-init", "--single-child"]):
        assert healthcheck.probe_target([*init, *api]) == ("127.0.0.1", 8000, "/healthz"), init
    for name in (*WORKER_QUEUES, "beat", "migrate"):
        assert healthcheck.probe_target(["/opt/venv/bin/python", *svc[name]["command"]]) is None, name


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def http_port() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _cmdline(tmp_path: Path, argv: list[str]) -> Path:
    path = tmp_path / "cmdline"
    path.write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    return path


def test_healthcheck_main_exit_codes(tmp_path: Path, http_port: int) -> None:
    up = ["python", "gunicorn", "-b", f"127.0.0.1:{http_port}", "email_service.wsgi:app"]
    assert healthcheck.main(_cmdline(tmp_path, up)) == 0
    flower_404 = ["celery", "-A", "email_service.worker", "flower", f"--port={http_port}"]
    assert healthcheck.main(_cmdline(tmp_path, flower_404)) == 1
    with HTTPServer(("127.0.0.1", 0), _Health) as closed:
        free = closed.server_address[1]
    down = ["gunicorn", "-b", f"0.0.0.0:{free}", "email_service.wsgi:app"]
    assert healthcheck.main(_cmdline(tmp_path, down)) == 1
    worker = ["celery", "-A", "email_service.worker", "worker", "-Q", "sync"]
    assert healthcheck.main(_cmdline(tmp_path, worker)) == 0


# ---------------------------------------------------------------------------------------------------
# .env.example
# ---------------------------------------------------------------------------------------------------


def test_config_parser_finds_the_settings() -> None:
    names = config_env_names()
    assert len(names) >= 30
    assert {"REDIS_HOST", "REDIS_RESULT_PORT", "DATABASE_URL", "FLOWER_BASIC_AUTH"} <= names


def test_env_example_assigns_every_config_variable() -> None:
    missing = config_env_names() - set(env_example())
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_values_are_the_defaults() -> None:
    """The example documents defaults; loading it must give exactly what an empty environment gives."""
    names = config_env_names()
    example = {k: v for k, v in env_example().items() if k in names}
    dev = {"APP_ENV": "development"}  # the defaults of production differ only in what they refuse
    assert config.load_settings({**example, **dev}) == config.load_settings(dev)
    assert example["APP_ENV"] == "", "APP_ENV is unset by default: production"


def test_env_example_holds_no_secrets() -> None:
    example = env_example()
    for name in ("JWT_SECRET", "ENCRYPTION_KEYS", "REDIS_PASSWORD", "SMTP_PASSWORD", "FLOWER_BASIC_AUTH"):
        assert example[name] == "", name
    text = ENV_EXAMPLE.read_text()
    assert "email-service generate-key" in text
    assert "secrets.token_urlsafe" in text


def test_env_example_lines_are_shell_safe() -> None:
    for name, value in env_example().items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name), name
        assert shlex.quote(value) == value or value == "", name
