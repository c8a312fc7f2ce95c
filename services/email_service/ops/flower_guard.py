"""Flower fails closed: it shows every tenant's task names, ids and timings, so it never runs open.

Flower itself starts without authentication when FLOWER_BASIC_AUTH is unset. `celery -A
email_service.worker flower` imports email_service.worker first, which calls require_flower_auth:
without credentials the launch stops with exit status 2 before a port is opened.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

FLOWER_AUTH_ENV = "FLOWER_BASIC_AUTH"


def is_flower_launch(argv: Sequence[str]) -> bool:
    """`celery ... flower ...` (the subcommand, not an option value that happens to say flower)."""
    return bool(argv) and Path(argv[0]).name.startswith("celery") and "flower" in argv[1:]


def valid_basic_auth(value: str) -> bool:
    """Flower's form: user:password[,user2:password2]; every pair needs a non-empty user and password."""
    pairs = [pair for pair in value.split(",") if pair.strip()]
    return bool(pairs) and all(user and password for user, _, password in (p.partition(":") for p in pairs))


def flower_auth_problem(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    """Why this Flower launch must not start, or None (also None for every other command)."""
    if not is_flower_launch(argv):
        return None
    if any(arg.startswith(("--basic_auth", "--basic-auth")) for arg in argv):
        return f"pass Flower's credentials in {FLOWER_AUTH_ENV}, not on the command line (ps shows it)"
    if not valid_basic_auth(env.get(FLOWER_AUTH_ENV, "")):
        return f"Flower needs credentials: set {FLOWER_AUTH_ENV}=user:password (Flower never runs open)"
    return None


def require_flower_auth(argv: Sequence[str], env: Mapping[str, str]) -> None:
    problem = flower_auth_problem(argv, env)
    if problem is not None:
        print(f"email_service: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(2)
