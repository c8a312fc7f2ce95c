"""The parse pool inside a daemonic process (a Celery prefork child) parses like the inline path.

The pool pays on large initial syncs (bench/internals_bench.py: ~1.6x inline on 10k x 5 KB with two
workers). The stdlib refuses children in a daemonic process; billiard's fork context is what makes it
work there. If billiard or concurrent.futures change that, this fails rather than every large sync.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from typing import Any

from email_service.mail.imap.types import FetchedMessage
from email_service.sync.pipeline import BatchParser
from email_service.sync.rows import RowContext

CTX = RowContext("t", "u", "a", "f", 1)
STAMP = datetime(2024, 1, 1, tzinfo=UTC)


def _batches() -> list[list[FetchedMessage]]:
    raws = [b"Subject: m%d\r\nMessage-ID: <m%d@x.test>\r\n\r\nbody %d\r\n" % (i, i, i) for i in range(1, 41)]
    messages = [FetchedMessage(i, (), None, STAMP, len(raw), raw) for i, raw in enumerate(raws, 1)]
    return [messages[i : i + 10] for i in range(0, len(messages), 10)]


def _subjects(workers: int) -> list[Any]:
    with BatchParser(workers) as parser:
        subjects = [row["subject"] for built in parser.parse(CTX, _batches()) for row in built.messages]
        assert (parser._executor is not None) == (workers > 0)  # no quiet fallback to inline parsing
        return subjects


def _in_daemon(out: Any) -> None:
    try:
        out.put(("ok", _subjects(2)))
    except BaseException as exc:  # reported to the test, which fails on it
        out.put(("error", repr(exc)))


def test_a_daemonic_process_parses_through_the_pool_in_order() -> None:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_in_daemon, args=(out,), daemon=True)
    child.start()
    status, subjects = out.get(timeout=60)
    child.join(10)
    assert status == "ok", subjects
    assert subjects == _subjects(0) == [f"m{i}" for i in range(1, 41)]
