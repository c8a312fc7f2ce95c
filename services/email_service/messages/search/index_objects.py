"""The search index's database objects that the models do not declare (migration 0008_fulltext_search).

PostgreSQL's messages.search_vector (and its GIN index) and SQLite's FTS5 table with its shadow tables
are dialect-specific DDL, maintained by triggers; Alembic's autogenerate and the schema-matches-models
test leave them out through `include_name` / `include_object`.
"""

from __future__ import annotations

from typing import Any

FTS_TABLE = "messages_fts"
VECTOR_COLUMN = "search_vector"
VECTOR_INDEX = "ix_messages_search"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Skip the FTS5 table and its shadow tables (messages_fts_data, _idx, _content, _docsize, _config)."""
    fts = name is not None and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    return not (type_ == "table" and fts)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Skip the tsvector column and its index, which exist on PostgreSQL only and outside the model."""
    if type_ == "column" and name == VECTOR_COLUMN and getattr(obj.table, "name", None) == "messages":
        return False
    return not (type_ == "index" and name == VECTOR_INDEX)
