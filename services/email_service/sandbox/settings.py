"""Sandbox settings: ports, demo credentials and where the mailbox lives, from env and arguments.

The sandbox is a development tool that runs outside the service's own settings, so it parses its
few SANDBOX_* variables here, from the environment `email_service.core.config_launch` hands it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from email_service.core.config_launch import environ

HOST = "127.0.0.1"
DEMO_PASSWORD = "demo"  # noqa: S105 - the published sandbox login, loopback only


@dataclass(frozen=True)
class SandboxSettings:
    """Everything the sandbox servers and the runner agree on."""

    var_dir: Path
    imap_port: int = 1143
    smtp_port: int = 1025
    address: str = "demo@sandbox.local"
    password: str = DEMO_PASSWORD
    host: str = HOST

    @property
    def data_dir(self) -> Path:
        """Maildir, user files and the seed marker; kept across restarts."""
        return self.var_dir / "sandbox"

    @classmethod
    def from_env(cls, var_dir: Path, env: Mapping[str, str] | None = None) -> SandboxSettings:
        """Read SANDBOX_IMAP_PORT, SANDBOX_SMTP_PORT, SANDBOX_USER and SANDBOX_PASSWORD."""
        env = environ() if env is None else env
        return cls(
            var_dir=Path(var_dir).resolve(),
            imap_port=_port(env, "SANDBOX_IMAP_PORT", 1143),
            smtp_port=_port(env, "SANDBOX_SMTP_PORT", 1025),
            address=env.get("SANDBOX_USER", "demo@sandbox.local"),
            password=env.get("SANDBOX_PASSWORD", DEMO_PASSWORD),
        )


def sandbox_enabled(env: Mapping[str, str] | None = None) -> bool:
    """SANDBOX=off (or false/0/no) turns the sandbox off; anything else leaves it on."""
    env = environ() if env is None else env
    return env.get("SANDBOX", "on").strip().lower() not in {"off", "false", "0", "no"}


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    port = int(raw)
    if not 0 < port < 65536:
        raise ValueError(f"{name}: expected a port between 1 and 65535, got {raw!r}")
    return port
