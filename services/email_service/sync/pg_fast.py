"""PostgreSQL fast paths for the sync hot loop, straight on the session's psycopg connection.

Same transaction (so RLS and the checkpoint still apply), fewer round trips and less Python:
COPY into a temp table + one INSERT ... SELECT per batch, and one UPDATE ... FROM unnest(...) per flag batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

from email_service.mail.imap.types import FlagUpdate
from email_service.messages.model import Message
from email_service.sync.rows import flag_columns

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
JSON_COLUMNS = frozenset(c.name for c in MESSAGES.columns if isinstance(c.type, JSON))

# Two statements whose plans stay sound without statistics (right after a big initial sync: the
# app role may not ANALYZE, and autovacuum has not yet). The rows by server key, in one index scan:
# with statistics, uid = ANY(...) is an index condition of uq_messages_server_key (one descent per
# UID); without them, the planner may pick the tenant's index and read the tenant's rows once.
# Then the UPDATE by id. In one statement (a LATERAL probe per UID joined to the UPDATE), the
# missing-statistics estimate put the tenant's rows outside a nested loop and re-ran every probe
# for each of them: 100 changes on 2,000 rows made 200,000 probes and took 2 to 60 s.
_FIND_BY_UID = """
SELECT id, uid FROM messages
 WHERE account_id = %s AND folder_id = %s AND uidvalidity = %s AND uid = ANY(%s::bigint[])
"""
_UPDATE_FLAGS = """
UPDATE messages AS m
   SET flags = s.flags::json, is_read = s.is_read, is_flagged = s.is_flagged,
       is_answered = s.is_answered, modseq = s.modseq, updated_at = now()
  FROM unnest(%s::text[], %s::text[], %s::bool[], %s::bool[], %s::bool[], %s::bigint[])
       AS s(id, flags, is_read, is_flagged, is_answered, modseq)
 WHERE m.id = s.id
"""


def _driver(session: Session) -> psycopg.Connection[Any]:
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def insert_messages(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT ... ON CONFLICT DO NOTHING for a batch, via COPY; returns the ids actually inserted.

    COPY into a transaction-scoped temp table, then one INSERT ... SELECT: a single statement for the
    server instead of one execution per row (~3x less work for both sides than pipelined executemany).
    """
    columns = tuple(rows[0])
    stage, insert = _copy_sql(columns)
    if all(isinstance(rows[0][name], str) for name in JSON_COLUMNS.intersection(columns)):
        getter = itemgetter(*columns)  # JSON already encoded by the parse workers
        params: Iterable[tuple[Any, ...]] = (getter(row) for row in rows)
    else:
        params = (_values(row, columns) for row in rows)
    with _driver(session).cursor() as cursor:
        # The mirror can be re-fetched: a commit lost in a database crash only means the batch and its
        # checkpoint are redone, so this transaction need not wait for the WAL flush.
        cursor.execute("SET LOCAL synchronous_commit TO off")
        if _has_lz4(cursor):  # pglz compression of the TOASTed bodies was most of the server's work
            cursor.execute("SET LOCAL default_toast_compression TO lz4")
        cursor.execute(_CREATE_STAGE)
        with cursor.copy(stage) as copy:
            for values in params:
                copy.write_row(values)
        cursor.execute(insert)
        return {str(found[0]) for found in cursor.fetchall()}


_LZ4: dict[tuple[str, int, str], bool] = {}


def _has_lz4(cursor: psycopg.Cursor[Any]) -> bool:
    """Whether this server was built with lz4 (PostgreSQL 14+); asked once per server and database."""
    info = cursor.connection.info
    key = (info.host, info.port, info.dbname)
    if key not in _LZ4:
        cursor.execute(
            "SELECT coalesce(bool_or('lz4' = ANY(enumvals)), false) FROM pg_settings"
            " WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
        _LZ4[key] = bool(row and row[0])
    return _LZ4[key]


# ON COMMIT DROP: nothing outlives the batch's transaction on a pooled connection, whatever happens.
_CREATE_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS sync_message_stage (LIKE messages INCLUDING DEFAULTS) ON COMMIT DROP"
)


@lru_cache(maxsize=8)
def _copy_sql(columns: tuple[str, ...]) -> tuple[sql.Composed, sql.Composed]:
    """COPY into the stage table, and the idempotent INSERT ... SELECT ... RETURNING id out of it."""
    unknown = set(columns).difference(MESSAGES.c.keys())
    if unknown:
        raise ValueError(f"not columns of messages: {sorted(unknown)}")
    names = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    copy = sql.SQL("COPY sync_message_stage ({}) FROM STDIN").format(names)
    insert = sql.SQL(
        "INSERT INTO messages ({0}) SELECT {0} FROM sync_message_stage ON CONFLICT DO NOTHING RETURNING id"
    ).format(names)
    return copy, insert


def _values(row: dict[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    """JSON columns as JSON text for COPY; pre-encoded JSON text passes as is."""
    return tuple(
        json.dumps(row[name], ensure_ascii=False, separators=(",", ":"))
        if name in JSON_COLUMNS and not isinstance(row[name], str)
        else row[name]
        for name in columns
    )


def update_flags(session: Session, key: tuple[str, str, int], updates: Sequence[FlagUpdate]) -> list[str]:
    """One UPDATE for the whole batch of flag changes; returns the ids of the rows changed."""
    with _driver(session).cursor() as cursor:
        # Right after an initial sync the table has no statistics yet (autovacuum has not analysed it,
        # and the app role may not ANALYZE a table it does not own); the planner then scanned the
        # folder once per changed UID (100 changes in a 300-message folder: 0.8 s instead of 0.05 s).
        # The unique index is always the right path here, so say so for this transaction only.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(_FIND_BY_UID, [*key, [u.uid for u in updates]])
        row_of = {int(uid): str(row_id) for row_id, uid in cursor.fetchall()}
        found = [u for u in updates if u.uid in row_of]
        if not found:
            return []
        cols = [flag_columns(u.flags) for u in found]
        arrays = (
            [row_of[u.uid] for u in found],
            [json.dumps(c["flags"], ensure_ascii=False) for c in cols],
            [c["is_read"] for c in cols],
            [c["is_flagged"] for c in cols],
            [c["is_answered"] for c in cols],
            [u.modseq for u in found],
        )
        cursor.execute(_UPDATE_FLAGS, arrays)
        return list(dict.fromkeys(arrays[0]))
