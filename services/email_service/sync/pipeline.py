"""Overlap IMAP fetching, MIME parsing and DB writes: parse batches in worker processes.

MIME parsing is the most expensive step of an initial sync (~0.3 ms per 5 KB message); doing it in
forked workers while this process reads the next batch and writes the previous one keeps both
cores busy. Small syncs (the common incremental case) parse inline: a pool is not worth its start.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import suppress
from types import TracebackType
from typing import Any

import billiard

from email_service.mail.imap.types import FetchedMessage
from email_service.sync.rows import BuiltBatch, RowContext, build_rows

log = logging.getLogger(__name__)

POOL_THRESHOLD = 1000  # new messages in one folder before a process pool pays for itself
LOOKAHEAD = 2  # batches in flight: bounds memory to a few batches whatever the mailbox size


def default_workers() -> int:
    return max(1, min(4, len(os.sched_getaffinity(0))))


def fork_context() -> Any:
    """fork, so children inherit the imported parser; they never touch inherited sockets.

    A Celery prefork pool process is daemonic, and the stdlib refuses children there ("daemonic
    processes are not allowed to have children", raised at the first submit, so every sync of 1,000+
    new messages failed in a worker). billiard, Celery's own multiprocessing, allows them.
    """
    if multiprocessing.current_process().daemon:
        return billiard.get_context("fork")
    return multiprocessing.get_context("fork")


class BatchParser:
    """Parses fetched batches in order, in worker processes when `workers` > 0, else inline."""

    def __init__(self, workers: int = 0) -> None:
        self._workers = workers
        self._executor: Executor | None = None

    def __enter__(self) -> BatchParser:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _pool(self) -> Executor | None:
        if self._workers <= 0:
            return None
        if self._executor is None:
            try:
                self._executor = ProcessPoolExecutor(self._workers, mp_context=fork_context())
            except (OSError, ValueError) as exc:
                log.warning("parse pool unavailable, parsing inline: %s", exc)
                self._workers = 0
        return self._executor

    def parse(self, ctx: RowContext, batches: Iterable[list[FetchedMessage]]) -> Iterator[BuiltBatch]:
        """Yield one BuiltBatch per input batch, in order; input is pulled LOOKAHEAD batches ahead."""
        pool = self._pool()
        if pool is None:
            for batch in batches:
                built = build_rows(ctx, batch)
                batch.clear()  # the raw bytes go before the rows are written, not after
                yield built
            return
        pending: deque[list[Future[BuiltBatch]]] = deque()
        try:
            for batch in batches:
                pending.append(_submit(pool, ctx, batch, self._workers))
                if len(pending) > LOOKAHEAD:
                    yield _collect(pending.popleft())
            while pending:
                yield _collect(pending.popleft())
        finally:
            for futures in pending:
                for future in futures:
                    with suppress(Exception):
                        future.cancel()


def _submit(
    pool: Executor, ctx: RowContext, batch: list[FetchedMessage], parts: int
) -> list[Future[BuiltBatch]]:
    """Split a batch so every worker gets a share of it."""
    size = max(1, -(-len(batch) // parts))
    return [pool.submit(build_rows, ctx, batch[i : i + size]) for i in range(0, len(batch), size)]


def _collect(futures: list[Future[BuiltBatch]]) -> BuiltBatch:
    out = BuiltBatch()
    for future in futures:
        out.extend(future.result())
    return out
