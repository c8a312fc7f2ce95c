"""The host's way to PyPI (CA bundle, index, proxy, timeouts) copied into a base image's root.

Read at run time from `pip config list` (files and PIP_* variables): settings that point at this
machine's disk (find-links, constraint, file:// indexes) are dropped, since the image has none of it.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

IMAGE_CA = "/etc/ssl/certs/ca-certificates.crt"
# Settings that say how to reach an index over the network; anything else stays on the host.
NETWORK_KEYS = ("index-url", "extra-index-url", "trusted-host", "proxy", "timeout", "default-timeout")


def host_settings() -> dict[str, str]:
    """`pip config list` as {key: value}, later scopes (env) overriding earlier ones (files)."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=True
    ).stdout
    settings: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            settings[name.rsplit(".", 1)[-1]] = value.strip().strip("'\"")
    return settings


def _remote(values: str) -> str:
    return " ".join(v for v in values.split() if v.startswith(("http://", "https://")))


def image_pip_conf(settings: dict[str, str]) -> str:
    """pip.conf for the image: the host's network settings and the image's own CA bundle."""
    lines = ["[global]", f"cert = {IMAGE_CA}"]
    for key in NETWORK_KEYS:
        value = settings.get(key, "")
        if key.endswith("index-url"):
            value = _remote(value)
        if value:
            lines.append(f"{key} = {value}")
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    if proxy and "proxy" not in settings:
        lines.append(f"proxy = {proxy}")
    return "\n".join(lines) + "\n"


def host_ca_bundle(settings: dict[str, str]) -> Path:
    """The bundle the host's pip trusts (it may hold a local proxy's CA), else OpenSSL's default."""
    default = ssl.get_default_verify_paths().cafile
    for candidate in (settings.get("cert"), os.environ.get("SSL_CERT_FILE"), default):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise RuntimeError("no CA bundle found on the host")


def install_into(rootfs: Path) -> None:
    """Write the CA bundle and /etc/pip.conf into a debootstrapped root."""
    settings = host_settings()
    target = rootfs / IMAGE_CA.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(host_ca_bundle(settings), target)
    (rootfs / "etc" / "pip.conf").write_text(image_pip_conf(settings))
