"""The environment is read only in config: every other module gets its values from the settings."""

from __future__ import annotations

import ast
from pathlib import Path

import email_service

PACKAGE = Path(email_service.__file__).parent
ALLOWED = {"core/config.py", "core/config_launch.py"}
ENV_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def env_reads(tree: ast.AST) -> list[int]:
    """Lines that touch os.environ/os.getenv (attribute access or `from os import environ`)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ENV_NAMES:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            lines.extend(node.lineno for alias in node.names if alias.name in ENV_NAMES)
    return lines


def test_only_config_reads_the_environment() -> None:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).as_posix() in ALLOWED:
            continue
        lines = env_reads(ast.parse(path.read_text(), str(path)))
        if lines:
            found[path.relative_to(PACKAGE).as_posix()] = lines
    assert not found, f"environment read outside config: {found}"


def test_the_check_sees_each_form() -> None:
    code = "import os\nfrom os import getenv\nos.environ.get('A')\nos.getenv('B')\n"
    assert sorted(env_reads(ast.parse(code))) == [2, 3, 4]
