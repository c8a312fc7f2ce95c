"""Launcher settings: what `make run`, the sandbox and the corpus tools take from the environment.

They are not service settings: a launcher runs before secrets exist and hands the environment on to
the processes it starts. Together with config.py this is the only module that touches os.environ.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from email_service.core.config import _parse_port, _Reader


@dataclass(frozen=True)
class LaunchSettings:
    """`make run` ports and directories, and where the spam corpus lives."""

    var_dir: Path
    api_port: int
    flower_port: int
    dev_redis_port: int
    spam_corpus_dir: Path | None


def load_launch_settings(environ: Mapping[str, str] | None = None) -> LaunchSettings:
    """Read EMAIL_SERVICE_VAR, API_PORT, FLOWER_PORT, DEV_REDIS_PORT and SPAM_CORPUS_DIR."""
    r = _Reader(os.environ if environ is None else environ)
    corpus = r.text("SPAM_CORPUS_DIR")
    return LaunchSettings(
        var_dir=Path(r.text("EMAIL_SERVICE_VAR", "var")).resolve(),
        api_port=r.get("API_PORT", 8000, _parse_port),
        flower_port=r.get("FLOWER_PORT", 5555, _parse_port),
        dev_redis_port=r.get("DEV_REDIS_PORT", 6399, _parse_port),
        spam_corpus_dir=Path(corpus) if corpus else None,
    )


def environ() -> Mapping[str, str]:
    """The live process environment, for launchers reading their own variables (sandbox)."""
    return os.environ


def child_environ(**extra: str) -> dict[str, str]:
    """A copy of the environment plus `extra`, for a process a launcher starts."""
    return {**os.environ, **extra}


def export(name: str, value: str, *, overwrite: bool = True) -> None:
    """Set a variable for this process and the ones it starts (settings are re-read from it)."""
    if overwrite:
        os.environ[name] = value
    else:
        os.environ.setdefault(name, value)
