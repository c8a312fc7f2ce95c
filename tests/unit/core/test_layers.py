"""The layout's rules, read from the source: blueprints translate, use cases stay free of Flask and Celery,
protocol libraries live in mail/ only."""

from __future__ import annotations

import ast
from pathlib import Path

import email_service

PACKAGE = Path(email_service.__file__).parent
# Where Flask or Celery belong: the app factory, blueprints, Celery tasks and the task plumbing.
FRAMEWORK_MODULES = {
    "__init__.py",
    "wsgi.py",
    "worker.py",
    "tasks/celery_app.py",
    "notifications/decorator.py",
    "ops/metrics.py",
    "ops/schedules.py",
    "ops/readiness.py",
}
FRAMEWORK_DIRS = ("core/http/", "core/tasking/")
PROTOCOL_LIBRARIES = {"imapclient", "imaplib", "smtplib", "aiosmtplib", "poplib"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules() -> list[tuple[str, set[str], str]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("migrations/", "sandbox/")):
            continue
        out.append((rel, _imports(path), path.read_text()))
    return out


def _top(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_blueprints_open_no_session_and_import_no_sqlalchemy() -> None:
    offenders = {}
    for rel, imports, text in _modules():
        if "Blueprint(" not in text:
            continue
        bad = {i for i in imports if i.split(".")[0] == "sqlalchemy" or i.startswith("email_service.core.db")}
        if bad or "session_scope" in text:
            offenders[rel] = sorted(bad) or ["session_scope"]
    assert not offenders, offenders


def test_only_entry_points_import_flask_or_celery() -> None:
    offenders = {}
    for rel, imports, _ in _modules():
        entry = (
            rel.endswith(("/api.py", "/tasks.py"))
            or rel in FRAMEWORK_MODULES
            or rel.startswith(FRAMEWORK_DIRS)
        )
        if entry:
            continue
        bad = _top(imports) & {"flask", "celery", "kombu"}
        if bad:
            offenders[rel] = sorted(bad)
    assert not offenders, offenders


def test_protocol_libraries_only_in_mail() -> None:
    offenders = {
        rel: sorted(_top(imports) & PROTOCOL_LIBRARIES)
        for rel, imports, _ in _modules()
        if not rel.startswith("mail/") and _top(imports) & PROTOCOL_LIBRARIES
    }
    assert not offenders, offenders


def test_every_blueprint_calls_into_its_domain_not_a_session() -> None:
    """A blueprint that starts work does it through core.tasking.start (via a use case), never Celery."""
    for rel, imports, text in _modules():
        if "Blueprint(" in text:
            assert "send_task" not in text and "apply_async" not in text, rel
            assert not any(i.startswith("email_service.tasks.celery_app") for i in imports), rel
