"""Helpers for the secrets audit: a real worker at DEBUG, and dumps of every place a secret could land."""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import inspect, text

from email_service.core.db import make_engine
from tests.servers.processes import start_worker, stop_process


@contextmanager
def debug_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real prefork worker on every queue with LOG_LEVEL=DEBUG, its output in `log`."""
    proc = start_worker(
        {**os.environ, **env}, log, concurrency=1, loglevel="DEBUG", name=f"audit-{os.getpid()}"
    )
    try:
        yield proc
    finally:
        stop_process(proc, timeout=30)


def _unwrap(text: str) -> list[str]:
    """A Redis value plus what hides inside it: kombu keeps message bodies base64-encoded in JSON."""
    found = [text]
    try:
        data = json.loads(text)
    except ValueError:
        return found
    if isinstance(data, dict) and isinstance(data.get("body"), str):
        with suppress(binascii.Error, ValueError):
            found.append(base64.b64decode(data["body"]).decode("utf-8", "replace"))
    return found


def redis_dump(url: str) -> dict[str, list[str]]:
    """Every key of one Redis database with all of its values, decoded."""
    client = redis.Redis.from_url(url)
    dump: dict[str, list[str]] = {}
    try:
        for key in client.scan_iter(count=500):
            kind = client.type(key).decode()
            values: list[Any]
            if kind == "string":
                values = [client.get(key)]
            elif kind == "list":
                values = client.lrange(key, 0, -1)
            elif kind == "hash":
                values = [b"%s=%s" % kv for kv in client.hgetall(key).items()]
            elif kind == "set":
                values = list(client.smembers(key))
            elif kind == "zset":
                values = client.zrange(key, 0, -1)
            else:
                values = [client.dump(key)]
            texts = [v.decode("utf-8", "replace") for v in values if v is not None]
            dump[key.decode("utf-8", "replace")] = [part for t in texts for part in _unwrap(t)]
    finally:
        client.close()
    return dump


def database_dump(admin_url: str) -> dict[str, list[str]]:
    """Every row of every table in the public schema, as the owner (no row-level security)."""
    dump: dict[str, list[str]] = {}
    engine = make_engine(admin_url)
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).fetchall()  # names from the catalogue
                dump[table] = [_text(value) for row in rows for value in row]
    finally:
        engine.dispose()
    return dump


def _text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def secret_forms(username: str, password: str) -> list[str]:
    """The password and the encodings a protocol could carry it in (AUTH PLAIN, LOGIN)."""
    plain = f"\0{username}\0{password}".encode()
    return [
        password,
        base64.b64encode(plain).decode(),
        base64.b64encode(password.encode()).decode(),
        password.encode().hex(),
    ]


def leaks(places: dict[str, list[str]], forms: list[str]) -> list[str]:
    """Names of the places where any form of the secret appears in clear."""
    return [
        f"{place}: {form!r}" for place, texts in places.items() for t in texts for form in forms if form in t
    ]
