"""A Docker engine and base images for `make docker-check`, on machines without a registry.

An engine that answers is used as it is. Otherwise (as root) Debian's docker.io is installed and a
private dockerd started: host networking only, vfs storage, its data under var/docker so images
survive between runs. Missing base images are made with debootstrap (see ../shared/TEST_SERVERS.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.docker import pipconf

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / "var" / "docker"
# Debian's 20.10 client builds with BuildKit natively (DOCKER_BUILDKIT=1); newer clients need buildx.
CLIENTS = ("/usr/bin/docker", "docker")
PYTHON_IMAGE = "python:3.11-slim-bookworm"
DEBIAN_IMAGE = "debian:bookworm-slim"
LOCAL_PREFIX = "local/"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# passwd (groupadd/useradd, which the Dockerfile runs) is named: minbase need not carry it.
BASE_PACKAGES = "passwd,python3,python3-venv,python3-pip,python-is-python3,ca-certificates"
# As in the python images: sbin holds groupadd/useradd, which the Dockerfile runs.
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_LABEL = "email-service.debootstrap"
# The root of the tarball is the image's "/": mkdtemp makes it 0700, which locks out every non-root user.
BASE_ROOT_MODE = 0o755
BASE_RECIPE = hashlib.sha256(f"{BASE_PACKAGES} {BASE_PATH} {BASE_ROOT_MODE:o}".encode()).hexdigest()[:12]
NICE = ["nice", "-n", "19", "ionice", "-c3"]


def client() -> str:
    for name in CLIENTS:
        path = shutil.which(name)
        if path:
            return path
    return CLIENTS[0]


def docker(env: dict[str, str], *args: str, check: bool = True, timeout: float = 900) -> str:
    """Run the docker client; its stdout, stripped. The timeout is generous: on vfs every
    `docker run` copies the whole image, which takes minutes on a busy machine."""
    result = subprocess.run(
        [client(), *args], env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: rc {result.returncode}\n{result.stderr[-3000:]}")
    return result.stdout.strip()


def _answers(env: dict[str, str]) -> bool:
    if not shutil.which(client()):
        return False
    try:
        result = subprocess.run([client(), "info"], env=env, capture_output=True, check=False, timeout=30)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _install_engine() -> None:
    if os.geteuid() != 0:
        raise RuntimeError("no Docker engine answers and installing one needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
    packages = ["docker.io", "debootstrap"]
    subprocess.run(
        [*NICE, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        env=env,
        check=True,
        capture_output=True,
    )


@contextmanager
def engine() -> Iterator[dict[str, str]]:
    """An environment whose DOCKER_HOST answers; a dockerd started here is stopped afterwards."""
    env = dict(os.environ)
    if _answers(env):
        yield env
        return
    if not shutil.which("dockerd"):
        _install_engine()
    STATE.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="es-dockerd-"))  # short: unix socket paths are limited
    sock = run_dir / "docker.sock"
    env["DOCKER_HOST"] = f"unix://{sock}"
    cmd = ["dockerd", "--iptables=false", "--bridge=none", "--storage-driver=vfs",
           f"--data-root={STATE / 'root'}", f"--exec-root={run_dir / 'exec'}",
           f"--pidfile={run_dir / 'docker.pid'}", f"--host={env['DOCKER_HOST']}"]  # fmt: skip
    with (STATE / "dockerd.log").open("ab") as log:
        proc = subprocess.Popen([*NICE, *cmd], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not _answers(env):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not start; see {STATE / 'dockerd.log'}")
            time.sleep(1)
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _unmount_under(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)


def _unmount_under(path: Path) -> None:
    """dockerd leaves its default network namespace mounted in its exec root: unmount before removing."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(f"{path}/")), reverse=True):
        subprocess.run(["umount", mount], check=False, capture_output=True)


def _has_image(env: dict[str, str], name: str) -> bool:
    return bool(docker(env, "images", "-q", name))


def _current_stand_in(env: dict[str, str], name: str) -> bool:
    """A local stand-in made by today's recipe (packages, PATH); an older one is made again."""
    if not _has_image(env, name):
        return False
    label = docker(env, "image", "inspect", "-f", f'{{{{index .Config.Labels "{BASE_LABEL}"}}}}', name)
    return label == BASE_RECIPE


def _debootstrap_image(env: dict[str, str], name: str) -> None:
    """Debian bookworm with Python, the host's CA bundle and its pip settings, imported as `name`."""
    if not shutil.which("debootstrap"):
        _install_engine()
    rootfs = Path(tempfile.mkdtemp(prefix="es-rootfs-", dir=STATE))
    try:
        subprocess.run(
            [*NICE, "debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm",
             str(rootfs), DEBIAN_MIRROR],
            check=True, capture_output=True, timeout=1800,
        )  # fmt: skip
        pipconf.install_into(rootfs)
        rootfs.chmod(BASE_ROOT_MODE)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            [client(), "import", "--change", f"ENV PATH={BASE_PATH}",
             "--change", f"LABEL {BASE_LABEL}={BASE_RECIPE}", "-", name],
            env=env, stdin=tar.stdout, check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        tar.wait()
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


def base_images(env: dict[str, str]) -> dict[str, str]:
    """{registry name: name to build FROM}: the registry's image when present, else a local stand-in."""
    chosen = {name: name for name in (PYTHON_IMAGE, DEBIAN_IMAGE) if _has_image(env, name)}
    missing = [name for name in (PYTHON_IMAGE, DEBIAN_IMAGE) if name not in chosen]
    for name in missing:
        chosen[name] = LOCAL_PREFIX + name
    local = [chosen[name] for name in missing]
    if local and not _current_stand_in(env, local[0]):
        _debootstrap_image(env, local[0])
    for name in local[1:]:
        if not _current_stand_in(env, name):
            # One Debian bookworm root serves both: the Python image is a superset of the slim one.
            docker(env, "tag", local[0], name)
    return chosen
