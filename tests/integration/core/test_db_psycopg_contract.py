"""What fetch_one_scoped's raw path relies on inside psycopg, checked on a real PostgreSQL.

The raw path pays (bench/internals_bench.py: ~4x a session_scope lookup) by sending the RLS setting
and a client-side mogrified SELECT as one simple query through psycopg.generators and loading the row
with a Transformer. If a psycopg upgrade changes any of these, these fail here first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
import pytest
from psycopg import pq
from psycopg.adapt import Transformer
from psycopg.generators import execute as pq_execute

from email_service.core.db import get_engine

pytestmark = pytest.mark.pg_only


def _raw() -> Any:
    return get_engine().raw_connection()


def test_a_multi_statement_simple_query_gives_one_result_per_statement(clean_db) -> None:
    pooled = _raw()
    try:
        raw = pooled.driver_connection
        with raw.lock:
            raw.pgconn.send_query(b"SELECT 1; SELECT 'two', now()")
            results = raw.wait(pq_execute(raw.pgconn))
        assert [r.status for r in results] == [pq.ExecStatus.TUPLES_OK] * 2
        loader = Transformer(raw)
        loader.set_pgresult(results[-1])
        text, stamp = loader.load_row(0, tuple)
        assert text == "two" and isinstance(stamp, datetime)
        assert raw.info.transaction_status == pq.TransactionStatus.IDLE  # the implicit transaction ended
    finally:
        pooled.close()


def test_client_side_mogrify_quotes_values_as_literals(clean_db) -> None:
    pooled = _raw()
    try:
        raw = pooled.driver_connection
        query = psycopg.ClientCursor(raw).mogrify(
            "SELECT %(v)s, %(n)s", {"v": "x'); DROP TABLE t; --", "n": 5}
        )
        assert query == "SELECT 'x''); DROP TABLE t; --', 5"
    finally:
        pooled.close()


def test_a_failed_statement_maps_to_psycopg_errors(clean_db) -> None:
    pooled = _raw()
    try:
        raw = pooled.driver_connection
        with raw.lock:
            raw.pgconn.send_query(b"SELECT 1/0")
            results = raw.wait(pq_execute(raw.pgconn))
        assert results[-1].status == pq.ExecStatus.FATAL_ERROR
        error = psycopg.errors.error_from_result(results[-1], encoding=raw.info.encoding)
        assert isinstance(error, psycopg.errors.DivisionByZero)
    finally:
        pooled.close()
