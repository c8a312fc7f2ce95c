"""The `label=` listing filter: on Gmail one row per message (from All Mail) carries its labels, so
"the INBOX" or "Work" of a Gmail account is the messages with that label, not a folder's rows."""

from __future__ import annotations

import json

from sqlalchemy import String, bindparam, cast, exists, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from email_service.messages.model import Message

GMAIL_INBOX = "\\Inbox"  # Gmail's system label of INBOX mail
MAX_LABEL_CHARS = 500  # the longest label a sync stores (mail/imap/gmail.py)


def label_condition(session: Session, label: str) -> ColumnElement[bool]:
    """Messages whose labels include `label` exactly (case as Gmail sends it, e.g. \\Inbox)."""
    if session.get_bind().dialect.name == "postgresql":
        wanted = bindparam("label_filter", json.dumps([label]), type_=String)
        return cast(Message.labels, JSONB).op("@>")(cast(wanted, JSONB))
    each = func.json_each(Message.labels).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value == label))
